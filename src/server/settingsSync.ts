/**
 * The editor's `gradientLens.*` settings on the server: pulled with workspace/configuration when the
 * client supports it (registered for change notifications when it allows), else read from what the
 * client pushes with didChangeConfiguration.
 */
import { DidChangeConfigurationNotification, type ClientCapabilities, type Connection } from 'vscode-languageserver/node';
import { defaultEditorSettings, parseEditorSettings, type EditorSettings } from './editorSettings';

const SECTION = 'gradientLens';

export class SettingsSync {
  private supportsPull = false;
  private supportsDynamicRegistration = false;
  private settings: EditorSettings = defaultEditorSettings();

  constructor(private readonly connection: Connection) {}

  get current(): EditorSettings {
    return this.settings;
  }

  initialize(capabilities: ClientCapabilities): void {
    this.supportsPull = capabilities.workspace?.configuration === true;
    this.supportsDynamicRegistration = capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true;
  }

  /** After initialization: asks for change notifications, then reads the settings. */
  async start(): Promise<EditorSettings> {
    if (this.supportsDynamicRegistration) await this.connection.client.register(DidChangeConfigurationNotification.type, { section: SECTION });
    return this.pull();
  }

  /** The settings after a didChangeConfiguration notification carrying `pushed`. */
  async changed(pushed: unknown): Promise<EditorSettings> {
    if (this.supportsPull) return this.pull();
    if (typeof pushed === 'object' && pushed !== null) this.settings = parseEditorSettings((pushed as Record<string, unknown>)[SECTION]);
    return this.settings;
  }

  private async pull(): Promise<EditorSettings> {
    if (!this.supportsPull) return this.settings;
    const section: unknown = await this.connection.workspace.getConfiguration({ section: SECTION });
    this.settings = parseEditorSettings(section);
    return this.settings;
  }
}

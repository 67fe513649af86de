/**
 * Chart colours from VS Code's theme CSS variables (the webview host sets them on <html> and the
 * theme kind as a class on <body>); the standalone report falls back to a light palette.
 */
export interface ChartTheme {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  foreground: string;
  muted: string;
  background: string;
  border: string;
  grid: string;
  accent: string;
  whatIf: string;
  warning: string;
  error: string;
  tooltipBackground: string;
  fontFamily: string;
}

function themeKind(body: HTMLElement): ChartTheme['kind'] {
  if (body.classList.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (body.classList.contains('vscode-high-contrast')) return 'high-contrast';
  if (body.classList.contains('vscode-dark')) return 'dark';
  return 'light';
}

export function readChartTheme(): ChartTheme {
  const style = getComputedStyle(document.body);
  const kind = themeKind(document.body);
  const dark = kind === 'dark' || kind === 'high-contrast';
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const foreground = v('--vscode-editor-foreground', v('--vscode-foreground', dark ? '#cccccc' : '#1f1f1f'));
  return {
    kind,
    foreground,
    muted: v('--vscode-descriptionForeground', dark ? '#9d9d9d' : '#616161'),
    background: v('--vscode-editor-background', dark ? '#1f1f1f' : '#ffffff'),
    border: v('--vscode-contrastBorder', v('--vscode-widget-border', dark ? '#454545' : '#d4d4d4')),
    grid: kind.startsWith('high-contrast') ? foreground : v('--vscode-editorWidget-border', dark ? '#3c3c3c' : '#e5e5e5'),
    accent: v('--vscode-charts-blue', v('--vscode-focusBorder', '#1a85ff')),
    whatIf: v('--vscode-charts-green', '#388a34'),
    warning: v('--vscode-charts-orange', v('--vscode-editorWarning-foreground', '#d18616')),
    error: v('--vscode-charts-red', v('--vscode-editorError-foreground', '#e51400')),
    tooltipBackground: v('--vscode-editorHoverWidget-background', dark ? '#252526' : '#f8f8f8'),
    fontFamily: v('--vscode-font-family', 'system-ui, sans-serif'),
  };
}

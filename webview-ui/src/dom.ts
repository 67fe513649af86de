/** Element construction with text only: nothing here ever parses a string as HTML. */
export interface ElementSpec {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, spec: ElementSpec = {}, children: (Node | null)[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (spec.className) node.className = spec.className;
  if (spec.text !== undefined) node.textContent = spec.text;
  for (const [name, value] of Object.entries(spec.attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

export function button(label: string, onClick: () => void, spec: ElementSpec = {}): HTMLButtonElement {
  const node = el('button', { ...spec, text: label, attrs: { type: 'button', ...spec.attrs } });
  node.addEventListener('click', onClick);
  return node;
}

/** A labelled number input; returns the wrapper and a reader for its value. */
export function numberField(label: string, value: number, min: number, max: number): { node: HTMLElement; read: () => number | null } {
  const input = el('input', { attrs: { type: 'number', min: String(min), max: String(max), step: '1', value: String(value) } });
  const node = el('label', { className: 'gl-field' }, [el('span', { text: label }), input]);
  return {
    node,
    read: () => {
      const n = Number(input.value);
      return Number.isInteger(n) && n >= min && n <= max ? n : null;
    },
  };
}

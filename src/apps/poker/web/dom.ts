/**
 * A tiny element builder. Text always goes in as text nodes (never as HTML), so names people
 * type cannot inject markup.
 */

type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

/** Creates `<tag>` with attributes (`on…` functions become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'style') {
      // Through the CSSOM: the page's Content-Security-Policy refuses inline style attributes.
      for (const declaration of String(value).split(';')) {
        const [property, ...rest] = declaration.split(':');
        if (property !== undefined && rest.length > 0) el.style.setProperty(property.trim(), rest.join(':').trim());
      }
    }
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces every child of `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'object' ? c : String(c))));
}

/** Formats chips: 1,250. */
export function chips(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The host's own pages besides the apps: the stylesheet of the index and 404 pages, the site's
 * icon, and the 404 page. Constants, so a host built without the web bundles still serves them;
 * no inline style or script, so the pages run under a strict Content-Security-Policy.
 * @packageDocumentation
 */

/** The site's icon (`/favicon.svg`, also answered for `/favicon.ico`): two speech bubbles. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect width="64" height="64" rx="14" fill="#0b57d0"/>
<path d="M14 16h26a6 6 0 0 1 6 6v12a6 6 0 0 1-6 6H26l-8 7v-7h-4a6 6 0 0 1-6-6V22a6 6 0 0 1 6-6z" fill="#fff"/>
<path d="M50 26a6 6 0 0 1 6 6v10a6 6 0 0 1-6 6h-2v6l-7-6H30a6 6 0 0 1-5-3h15a10 10 0 0 0 10-10z" fill="#fbbf24"/>
</svg>
`;

/** The stylesheet of the index and 404 pages (`/parley.css`). */
export const SITE_CSS = `:root{color-scheme:light;--ink:#1b1f24;--muted:#4a5563;--accent:#0b57d0;--line:#d9dee5}
body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--ink);background:#f4f6f9}
main{max-width:52rem;margin:0 auto;padding:3rem 1.25rem}
h1{font-size:2.25rem;margin:0 0 .25rem}
.lead{color:var(--muted);margin:0 0 2rem}
.cards{list-style:none;padding:0;margin:0;display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr))}
.card{position:relative;background:#fff;border:1px solid var(--line);border-radius:12px;padding:1.25rem 1.25rem 1rem;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.card:hover{border-color:var(--accent)}
.card h2{margin:0 0 .5rem;font-size:1.25rem}
.card h2 a{color:var(--ink);text-decoration:none}
.card h2 a::after{content:"";position:absolute;inset:0;border-radius:12px}
.card h2 a:focus-visible::after{outline:3px solid var(--accent);outline-offset:2px}
.card p{margin:0 0 .75rem;color:var(--muted)}
.card .open{color:var(--accent);font-weight:600;margin:0}
.notfound{text-align:center;padding-top:5rem}
.notfound .code{font-size:4rem;font-weight:800;color:var(--accent);margin:0;line-height:1}
.notfound a{color:var(--accent);font-weight:600}
footer{margin-top:2.5rem;color:var(--muted);font-size:.9rem}
footer a{color:var(--accent)}
`;

/** The head every host page shares: charset, viewport, icon, stylesheet. */
export function pageHead(title: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><link rel="icon" href="/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/parley.css"></head>`;
}

/** The 404 page: says so, and leads back to the index. */
export const NOT_FOUND_HTML = `${pageHead('Not found · Parley')}
<body><main class="notfound"><p class="code">404</p><h1>Page not found</h1>
<p class="lead">There is nothing at this address on this Parley server.</p>
<p><a href="/">See what this server offers</a></p>
</main></body></html>
`;

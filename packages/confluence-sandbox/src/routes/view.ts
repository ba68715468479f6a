// Pages for people: `/sandbox` lists spaces and pages, `/sandbox/pages/:id` renders a page's
// storage body as readable HTML. Everything from page content is escaped by the renderer.

import type { FastifyInstance } from "fastify";
import { escapeHtml, renderStorage } from "../render-storage.js";
import type { SandboxContext } from "../SandboxContext.js";
import { current } from "../SandboxStore.js";

/** Registers `/sandbox` and `/sandbox/pages/:id`. */
export function registerViewRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const { store } = ctx;

  app.get("/sandbox", async (_req, reply) => {
    const sections = store.spaceList.map((space) => {
      const pages = [...store.pageMap.values()].filter((p) => p.spaceId === space.id);
      const tree = (parentId: string | null): string => {
        const kids = pages
          .filter((p) => p.parentId === parentId && p.status !== "trashed")
          .sort((a, b) => a.position - b.position);
        if (kids.length === 0) return "";
        return `<ul>${kids
          .map(
            (p) =>
              `<li><a href="/sandbox/pages/${p.id}">${escapeHtml(current(p).title)}</a> <small>v${current(p).number}${p.status === "current" ? "" : ` · ${p.status}`}</small>${tree(p.id)}</li>`,
          )
          .join("")}</ul>`;
      };
      const trashed = pages.filter((p) => p.status === "trashed");
      return `<section><h2>${escapeHtml(space.name)} <small>(${escapeHtml(space.key)}, id ${space.id})</small></h2>${tree(null)}${
        trashed.length === 0
          ? ""
          : `<details><summary>Trash (${trashed.length})</summary><ul>${trashed.map((p) => `<li><a href="/sandbox/pages/${p.id}">${escapeHtml(current(p).title)}</a></li>`).join("")}</ul></details>`
      }</section>`;
    });
    reply.type("text/html; charset=utf-8");
    return layout(
      "Confluence sandbox",
      `<h1>Confluence sandbox <small>(${ctx.options.mode})</small></h1>${sections.join("")}`,
    );
  });

  app.get("/sandbox/pages/:id", async (req, reply) => {
    const page = store.pageMap.get((req.params as { id: string }).id);
    reply.type("text/html; charset=utf-8");
    if (page === undefined) {
      reply.code(404);
      return layout("Not found", '<h1>Page not found</h1><p><a href="/sandbox">All pages</a></p>');
    }
    const v = current(page);
    const space = store.spaceById(page.spaceId)!;
    const crumbs = store
      .ancestors(page)
      .map((a) => `<a href="/sandbox/pages/${a.id}">${escapeHtml(current(a).title)}</a>`)
      .join(" / ");
    const author = store.userList.find((u) => u.accountId === v.authorId)?.displayName ?? v.authorId;
    const labels = page.labels.map((l) => `<span class="label">${escapeHtml(l.name)}</span>`).join(" ");
    const body = `<nav><a href="/sandbox">${escapeHtml(space.name)}</a>${crumbs === "" ? "" : ` / ${crumbs}`}</nav>
<h1>${escapeHtml(v.title)}</h1>
<p class="meta">Version ${v.number} · ${escapeHtml(page.status)} · by ${escapeHtml(author)} · <time datetime="${escapeHtml(v.createdAt)}">${escapeHtml(v.createdAt)}</time>${v.message === "" ? "" : ` · “${escapeHtml(v.message)}”`}</p>
${labels === "" ? "" : `<p class="labels">${labels}</p>`}
<article>${renderStorage(v.body, {
      linkPage: (title, spaceKey) => {
        const target = spaceKey === undefined ? space : store.spaceByKey(spaceKey);
        const found = [...store.pageMap.values()].find(
          (p) => p.spaceId === target?.id && p.status === "current" && current(p).title === title,
        );
        return found === undefined ? undefined : `/sandbox/pages/${found.id}`;
      },
    })}</article>`;
    return layout(v.title, body);
  });
}

// internal

const CSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#172b4d}
small,.meta{color:#6b778c}pre{background:#f4f5f7;padding:.75rem;overflow:auto;border-radius:3px}
.panel{border-left:4px solid;padding:.5rem 1rem;margin:1rem 0;border-radius:3px}
.panel-info{border-color:#0065ff;background:#deebff}.panel-tip{border-color:#36b37e;background:#e3fcef}
.panel-note{border-color:#ffab00;background:#fffae6}.panel-warning{border-color:#de350b;background:#ffebe6}
.panel-panel{border-color:#dfe1e6;background:#fafbfc}.label{background:#dfe1e6;border-radius:3px;padding:0 .4rem;font-size:13px}
table{border-collapse:collapse}td,th{border:1px solid #dfe1e6;padding:.3rem .6rem}.tasks{list-style:none;padding-left:1rem}
.status{border-radius:3px;padding:0 .3rem;font-size:12px;font-weight:600;text-transform:uppercase;background:#dfe1e6}
.toc{background:#fafbfc;border:1px solid #dfe1e6;padding:.5rem 1rem}.macro{color:#6b778c;font-style:italic}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>${body}</body></html>`;
}

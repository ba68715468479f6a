// Pages for people: `/sandbox` lists spaces and pages, `/sandbox/pages/:id` renders a page's
// storage body as readable HTML, and the page links Confluence hands out (`webui`, `tinyui`,
// `viewpage.action`) redirect there. Everything from page content is escaped by the renderer.
// Like `/sandbox`, none of this asks for a token: a browser following a link has none.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { escapeHtml, renderStorage } from "../render-storage.js";
import { pageIdOfTinyui, type SandboxContext, siteContext } from "../SandboxContext.js";
import { current, type PageRecord } from "../SandboxStore.js";

/** Whether a request matched one of the page-link redirects (no auth, faults or latency, like `/sandbox`). */
export function isViewRoute(req: FastifyRequest): boolean {
  return (req.routeOptions.config as { view?: unknown } | undefined)?.view === true;
}

/** Registers `/sandbox`, `/sandbox/pages/:id` and the page-link redirects under the site base. */
export function registerViewRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const { store } = ctx;
  registerLinkRedirects(app, ctx);

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
    if (page === undefined) return pageNotFound(reply);
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
      deployment: ctx.options.mode,
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

/**
 * The Content-Security-Policy of every HTML answer of the sandbox: no script, frame, form or
 * plugin at all, the pages' own inline CSS, and images from this site, `data:` and http(s) (a
 * page may show an image from anywhere, as Confluence does). A link the renderer should not have
 * let through still cannot run script.
 */
export const HTML_CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// internal

/**
 * The links a publication records, relative to the site base (`/wiki` on Cloud, the context path
 * on DC), as REST-API.md §1 describes them: Cloud `/spaces/KEY/pages/ID/Title` (space
 * `/spaces/KEY[/overview]`), DC `/display/KEY/Title` (space `/display/KEY`), and on both
 * `/pages/viewpage.action?pageId=ID` and the tiny link `/x/CODE`. Each answers 302 to the view.
 */
function registerLinkRedirects(app: FastifyInstance, ctx: SandboxContext): void {
  const { store } = ctx;
  const root = siteContext(ctx);
  const opts = { config: { view: true } };
  const toView = (reply: FastifyReply, page: PageRecord | undefined) =>
    page === undefined ? pageNotFound(reply) : reply.redirect(`/sandbox/pages/${page.id}`, 302);
  const homepage = (key: string) => {
    const space = store.spaceByKey(key);
    return space === undefined ? undefined : store.pageMap.get(space.homepageId);
  };
  const byId = (id: string | undefined) => (id === undefined ? undefined : store.pageMap.get(id));
  type Params = { key: string; id: string; code: string };

  if (ctx.isCloud) {
    // The id decides: the title part goes stale on a rename and the page may move between spaces.
    for (const url of [`${root}/spaces/:key/pages/:id`, `${root}/spaces/:key/pages/:id/:title`]) {
      app.get(url, opts, async (req, reply) => toView(reply, byId((req.params as Params).id)));
    }
    for (const url of [`${root}/spaces/:key`, `${root}/spaces/:key/overview`]) {
      app.get(url, opts, async (req, reply) => toView(reply, homepage((req.params as Params).key)));
    }
  } else {
    app.get(`${root}/display/:key`, opts, async (req, reply) =>
      toView(reply, homepage((req.params as Params).key)),
    );
    app.get(`${root}/display/:key/:title`, opts, async (req, reply) => {
      const { key } = req.params as Params;
      // Read the raw segment: `+` is a space there, and `%2B` a literal plus (plusEncode).
      const raw = (req.url.split("?")[0] ?? "").replace(/\/+$/, "").split("/").pop() ?? "";
      const title = decodePlus(raw);
      const space = store.spaceByKey(key);
      const found =
        title === undefined || space === undefined
          ? undefined
          : [...store.pageMap.values()].find(
              (p) =>
                p.spaceId === space.id &&
                p.status === "current" &&
                current(p).title.toLowerCase() === title.toLowerCase(),
            );
      return toView(reply, found);
    });
  }
  app.get(`${root}/pages/viewpage.action`, opts, async (req, reply) => {
    const id = (req.query as { pageId?: unknown }).pageId;
    return toView(reply, byId(typeof id === "string" ? id : undefined));
  });
  app.get(`${root}/x/:code`, opts, async (req, reply) =>
    toView(reply, byId(pageIdOfTinyui((req.params as Params).code))),
  );
}

function decodePlus(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

function pageNotFound(reply: FastifyReply): FastifyReply {
  reply.code(404).type("text/html; charset=utf-8");
  return reply.send(layout("Not found", '<h1>Page not found</h1><p><a href="/sandbox">All pages</a></p>'));
}

const CSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#172b4d}
small,.meta{color:#6b778c}pre{background:#f4f5f7;padding:.75rem;overflow:auto;border-radius:3px}
.panel{border-left:4px solid;padding:.5rem 1rem;margin:1rem 0;border-radius:3px}
.panel-info{border-color:#0065ff;background:#deebff}.panel-tip{border-color:#36b37e;background:#e3fcef}
.panel-note{border-color:#ffab00;background:#fffae6}.panel-warning{border-color:#de350b;background:#ffebe6}
.panel-panel{border-color:#dfe1e6;background:#fafbfc}.label{background:#dfe1e6;border-radius:3px;padding:0 .4rem;font-size:13px}
table{border-collapse:collapse}td,th{border:1px solid #dfe1e6;padding:.3rem .6rem}.tasks{list-style:none;padding-left:1rem}
.status{border-radius:3px;padding:0 .3rem;font-size:12px;font-weight:600;text-transform:uppercase;background:#dfe1e6}
.toc{background:#fafbfc;border:1px solid #dfe1e6;padding:.5rem 1rem}.macro{color:#6b778c;font-style:italic}
.macro-error{border:1px solid #de350b;background:#ffebe6;color:#bf2600;padding:.5rem 1rem;margin:1rem 0}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>${body}</body></html>`;
}

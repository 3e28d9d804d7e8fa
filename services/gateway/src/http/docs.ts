import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type OpenApiDocument, openapiDocument } from "@labnet/api";
import { Hono } from "hono";

/** The swagger-ui-dist files the reference page loads, with their content types. */
const SWAGGER_ASSETS: Readonly<Record<string, string>> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

/** Starts Swagger UI from the page's data attributes, so the page needs no inline script. */
const INIT_SCRIPT = `window.addEventListener("load", function () {
  // /docs#token=<token> pre-authorizes; the fragment never reaches the server. Read it (and
  // take it out of the address bar) before Swagger UI starts: its deep linking rewrites the
  // fragment as a link to an operation.
  var match = /^#token=(.+)$/.exec(window.location.hash);
  var token = match ? decodeURIComponent(match[1]) : undefined;
  if (match) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  var root = document.getElementById("swagger-ui");
  var ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    tryItOutEnabled: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
    onComplete: function () {
      if (token) {
        ui.preauthorizeApiKey("bearerAuth", token);
      }
    },
  });
  window.ui = ui;
});
`;

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function renderPage(base: string, title: string): string {
  const asset = (name: string) => escapeHtml(`${base}/docs/assets/${name}`);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <link rel="stylesheet" href="${asset("swagger-ui.css")}">
  <link rel="icon" type="image/png" href="${asset("favicon-32x32.png")}" sizes="32x32">
  <style>body { margin: 0 } .labnet-hint { font: 14px sans-serif; padding: 8px 20px; background: #f4f7fb; border-bottom: 1px solid #dde3ea }</style>
</head>
<body>
  <p class="labnet-hint">Every <code>/v1</code> call but the health probes needs a token: press <b>Authorize</b> and paste an API token
  (the gateway sends it as <code>Authorization: Bearer &lt;token&gt;</code>), or open this page as <code>/docs#token=&lt;token&gt;</code>.</p>
  <div id="swagger-ui" data-spec-url="${escapeHtml(`${base}/openapi.json`)}"></div>
  <script src="${asset("swagger-ui-bundle.js")}"></script>
  <script src="${asset("swagger-ui-standalone-preset.js")}"></script>
  <script src="${asset("init.js")}"></script>
</body>
</html>
`;
}

/** Options of {@link createDocsApp}. */
export interface DocsOptions {
  /** The document to serve; default the bundled contract. */
  document?: OpenApiDocument;
  /** The page title; default the document's title. */
  title?: string;
}

/**
 * A sub-app serving the contract and its interactive reference, without any CDN (lab
 * machines are often offline): `GET /openapi.json`, `GET /docs` (Swagger UI) and
 * `GET /docs/assets/*` (files of the installed swagger-ui-dist, read once and cached).
 * Mount it with `app.route("/", createDocsApp())`; it needs no token.
 */
export function createDocsApp(options: DocsOptions = {}): Hono {
  const document = options.document ?? openapiDocument;
  const title = options.title ?? `${document.info.title} ${document.info.version}`;
  const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const cache = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
  const app = new Hono();

  app.get("/openapi.json", (c) => c.json(document));

  app.get("/docs", (c) => c.html(renderPage(c.req.path.replace(/\/docs\/?$/, ""), title)));
  app.get("/docs/", (c) => c.html(renderPage(c.req.path.replace(/\/docs\/?$/, ""), title)));

  app.get("/docs/assets/init.js", (c) =>
    c.body(INIT_SCRIPT, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-cache",
    }),
  );

  app.get("/docs/assets/:file", async (c) => {
    const file = c.req.param("file");
    const contentType = SWAGGER_ASSETS[file];
    if (!contentType) {
      return c.notFound();
    }
    let content = cache.get(file);
    if (!content) {
      content = readFile(join(swaggerDir, file)).then((buffer) => new Uint8Array(buffer));
      cache.set(file, content);
      content.catch(() => cache.delete(file));
    }
    return c.body(await content, 200, {
      "content-type": contentType,
      "cache-control": "public, max-age=86400",
    });
  });

  return app;
}

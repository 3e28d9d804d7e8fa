/**
 * Topology pictures the way a person sees them (issue 10, deliverable 4): the SVG of a
 * 30-node lab instance, from the API, rendered by a real browser (headless Chromium, Debian's
 * package, installed by infra/local/ensure-deps.sh), is a picture: the PNG has the page's size,
 * is not one colour, and shows the boxes' colours and dark text. The screenshot is kept as
 * $TMPDIR/labnet-screenshots/topology-30-nodes.png for a person to look at.
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { SaxesParser } from "saxes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { colourCounts, decodePng } from "../helpers/png";
import { registerTestHost } from "../helpers/test-host";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!CHROMIUM) {
  console.warn(
    "topology e2e: SKIPPED the browser check: no chromium (/usr/bin/chromium); infra/local/ensure-deps.sh installs Debian's chromium",
  );
}

/** A lab instance of 30 nodes: three networks, some nodes on two, a few published ports. */
function thirtyNodeTemplate(): string {
  const lines = [
    "name: topo-thirty",
    "title: Thirty nodes on three networks",
    "networks:",
    "  front: { ipam: { config: [ { subnet: 172.20.0.0/24 } ] } }",
    "  back: { ipam: { config: [ { subnet: 172.21.0.0/24 } ] } }",
    "  data: {}",
    "services:",
  ];
  const nets = ["front", "back", "data"];
  for (let i = 1; i <= 30; i++) {
    const own = nets[i % 3] ?? "front";
    const second = i % 5 === 0 ? `, ${nets[(i + 1) % 3]}` : "";
    const ports = i % 10 === 1 ? `, ports: ["${8000 + i}:80"]` : "";
    lines.push(`  node${String(i).padStart(2, "0")}: { networks: [${own}${second}]${ports} }`);
  }
  return `${lines.join("\n")}\n`;
}

/** Runs Chromium headless on `html` and returns the screenshot; kills it (by its process group) after 90 s. */
async function screenshot(html: string, width: number, height: number, png: string): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), "labnet-topology-"));
  try {
    const page = path.join(dir, "page.html");
    await writeFile(page, html);
    const argv = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--user-data-dir=${path.join(dir, "profile")}`,
      `--window-size=${width},${height}`,
      `--screenshot=${png}`,
      `file://${page}`,
    ];
    const child = spawn(CHROMIUM ?? "chromium", argv, {
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        process.kill(-child.pid, "SIGKILL");
      }
    }, 90_000);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (c) => resolve(c));
    }).finally(() => clearTimeout(timer));
    if (!existsSync(png)) {
      throw new Error(`chromium exited ${code} without a screenshot: ${stderr}`);
    }
    return await readFile(png);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function svgSize(svg: string): { width: number; height: number; texts: string[] } {
  const parser = new SaxesParser({ xmlns: true });
  let width = 0;
  let height = 0;
  let inText = false;
  const texts: string[] = [];
  parser.on("opentag", (tag) => {
    if (tag.local === "svg") {
      width = Number(tag.attributes.width?.value);
      height = Number(tag.attributes.height?.value);
    }
    inText = tag.local === "text";
  });
  parser.on("closetag", () => {
    inText = false;
  });
  parser.on("text", (t) => {
    if (inText) {
      texts.push(t);
    }
  });
  parser.write(svg).close();
  return { width, height, texts };
}

let labnet: TestLabnet;

beforeAll(async () => {
  labnet = await startTestLabnet();
  const host = await registerTestHost(labnet.db, { name: "tpe-lab", netnsPrefix: "tpe-" });
  const template = await labnet.client.POST("/v1/lab-templates", { body: { source: thirtyNodeTemplate() } });
  expect(template.response.status, JSON.stringify(template.error)).toBe(201);
  const lab = await labnet.client.POST("/v1/labs", {
    body: { name: "tpe", template: "topo-thirty", students: ["alice", "bob"], host: host.name },
  });
  expect(lab.response.status, JSON.stringify(lab.error)).toBe(202);
});

afterAll(async () => {
  await labnet?.stop();
});

describe("the SVG of a 30-node lab instance in a browser", () => {
  it.skipIf(!CHROMIUM)("is a non-blank picture of the page's size with the boxes drawn", async () => {
    const res = await labnet.request("GET", "/v1/labs/tpe/instances/alice/topology", {
      headers: { accept: "image/svg+xml" },
    });
    expect(res.status).toBe(200);
    const svg = await res.text();
    const { width, height, texts } = svgSize(svg);
    for (let i = 1; i <= 30; i++) {
      expect(texts).toContain(`node${String(i).padStart(2, "0")}`);
    }
    for (const name of ["front", "back", "data", "bridge"]) {
      expect(texts).toContain(name);
    }
    expect(width).toBeGreaterThan(200);
    expect(height).toBeGreaterThan(200);
    const html = `<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0;background:#fff}</style></head><body>${svg.replace(/^<\?xml[^>]*>\s*/, "")}</body></html>`;
    const dir = path.join(tmpdir(), "labnet-screenshots");
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, "topology-30-nodes.png");
    const png = decodePng(await screenshot(html, width, height, file));
    console.log(`topology e2e: screenshot ${file} (${png.width}x${png.height})`);
    expect(png.width).toBe(width);
    expect(png.height).toBe(height);
    const counts = colourCounts(png);
    expect(counts.size, "not one colour").toBeGreaterThan(10);
    const total = png.width * png.height;
    const white = counts.get("#ffffff") ?? 0;
    expect(white / total, "something is drawn on the white page").toBeLessThan(0.95);
    // The machine's box fill and the networks' (bridge) fill, as the SVG paints them.
    expect(counts.get("#eaf2fb") ?? 0, "machine box").toBeGreaterThan(total * 0.05);
    expect(counts.get("#e3f3e6") ?? 0, "network boxes").toBeGreaterThan(1000);
    // Text: dark pixels.
    let dark = 0;
    for (const [hex, n] of counts) {
      const [r, g, b] = [1, 3, 5].map((k) => Number.parseInt(hex.slice(k, k + 2), 16));
      if ((r ?? 255) + (g ?? 255) + (b ?? 255) < 200) {
        dark += n;
      }
    }
    expect(dark, "dark text pixels").toBeGreaterThan(2000);
  });
});

// Debian's Jupyter Notebook 6.4, started with --gateway-url on a fleet's serve (test_notebook.py
// starts both), driven in Debian's headless Chromium through playwright-core as a user would: a Lua
// notebook prints 1+1, a JavaScript one maps an array, interrupt stops spin(60), restart clears the
// state, a second tab of the same notebook sees the first tab's output on its iopub stream, and
// closing a notebook shuts its kernel down. Prints {kernels: [gateway ids]} for the harness to check
// the containers; exits non-zero on failure. Screenshots go to NOTEBOOK_ARTIFACTS.
"use strict";

const fs = require("fs");
const path = require("path");
const {chromium} = require("playwright-core");

const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set (run through test_notebook.py)`);
  return process.env[name];
};
const NOTEBOOK = env("NOTEBOOK_URL");
const TOKEN = env("NOTEBOOK_TOKEN");
const ARTIFACTS = env("NOTEBOOK_ARTIFACTS");

async function api(method, urlPath, body) {
  const response = await fetch(`${NOTEBOOK}${urlPath}`, {
    method,
    headers: {Authorization: `token ${TOKEN}`, "Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// A new notebook file on the given kernelspec, as "New > LLMSpell ..." would make it.
async function newNotebook(name, kernelspec) {
  const specs = await api("GET", "/api/kernelspecs");
  const spec = specs.kernelspecs[kernelspec];
  if (!spec) throw new Error(`Notebook does not list ${kernelspec}: ${Object.keys(specs.kernelspecs)}`);
  await api("PUT", `/api/contents/${name}`, {
    type: "notebook",
    content: {
      nbformat: 4, nbformat_minor: 5, cells: [],
      metadata: {kernelspec: {name: kernelspec, display_name: spec.spec.display_name, language: spec.spec.language}},
    },
  });
}

async function until(page, what, predicate, arg, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await page.evaluate(predicate, arg).catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function openNotebook(context, name) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`page error in ${name}: ${e}`));
  await page.goto(`${NOTEBOOK}/notebooks/${name}?token=${TOKEN}`);
  await until(page, `${name}'s kernel to be ready`, () =>
    window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected() &&
    document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null);
  await listen(page);
  return page;
}

// Keeps every message the page's kernel WebSocket receives (again after a restart's reconnect).
async function listen(page) {
  await page.evaluate(() => {
    window.seenOnIopub = window.seenOnIopub || [];
    Jupyter.notebook.kernel.ws.addEventListener("message", (e) => {
      if (typeof e.data === "string") window.seenOnIopub.push(JSON.parse(e.data));
    });
  });
}

// Types `code` into the last cell and runs it with Shift+Enter; returns that cell's index.
async function typeAndRun(page, code) {
  const index = await page.evaluate(() => {
    const nb = Jupyter.notebook;
    const last = nb.ncells() - 1;
    if (last < 0 || nb.get_cell(last).get_text() !== "") nb.insert_cell_below("code", last);
    nb.select(nb.ncells() - 1);
    return nb.ncells() - 1;
  });
  await page.locator(".cell").nth(index).locator(".CodeMirror").click();
  await page.keyboard.type(code);
  await page.keyboard.press("Shift+Enter");
  return index;
}

// The text the user sees under cell `index`, once it matches `pattern`.
async function outputOf(page, index, pattern, timeoutMs = 60000) {
  return until(page, `output matching ${pattern} under cell ${index}`, ([i, source]) => {
    const area = document.querySelectorAll(".cell")[i].querySelector(".output_area");
    const text = area ? area.innerText : "";
    return new RegExp(source).test(text) ? text : null;
  }, [index, pattern.source], timeoutMs);
}

async function kernelId(page) {
  return page.evaluate(() => Jupyter.notebook.kernel.id);
}

async function main() {
  fs.mkdirSync(ARTIFACTS, {recursive: true});
  for (const old of fs.readdirSync(ARTIFACTS).filter((f) => /^notebook-.*\.png$/.test(f)))
    fs.unlinkSync(path.join(ARTIFACTS, old));
  const browser = await chromium.launch({executablePath: "/usr/bin/chromium-headless-shell", args: ["--no-sandbox"]});
  const context = await browser.newContext({viewport: {width: 1280, height: 900}});
  const kernels = [];
  const shot = (page, name) => page.screenshot({path: path.join(ARTIFACTS, `notebook-${name}.png`)});
  let current = null;
  try {
    // Lua: a new notebook runs print(1+1) and shows 2.
    await newNotebook("lua.ipynb", "llmspell-lua-default");
    const lua = current = await openNotebook(context, "lua.ipynb");
    kernels.push(await kernelId(lua));
    await outputOf(lua, await typeAndRun(lua, "print(1+1)"), /^\s*2\s*$/);
    await shot(lua, "lua");

    // The same notebook in a second tab: its iopub stream carries the first tab's output.
    const second = await openNotebook(context, "lua.ipynb");
    if ((await kernelId(second)) !== kernels[0]) throw new Error("the second tab has another kernel");
    const marker = `two-tabs-${process.pid}`;
    await outputOf(lua, await typeAndRun(lua, `print("${marker}")`), new RegExp(marker));
    await until(second, "the first tab's output on the second tab's iopub", (m) =>
      window.seenOnIopub.some((msg) => msg.channel === "iopub" && msg.msg_type === "stream" &&
                                       msg.content.text.includes(m)), marker, 20000);
    await shot(second, "second-tab");
    await second.close();

    // Interrupt stops spin(60); restart clears the state.
    await outputOf(lua, await typeAndRun(lua, "kept = 42 print(kept)"), /42/);
    const spinning = await typeAndRun(lua, "spin(60)");
    // Running: its own busy status came (an interrupt between two cells interrupts nothing).
    await until(lua, "spin(60) to run", (i) => {
      const id = Jupyter.notebook.get_cell(i).last_msg_id;
      return window.seenOnIopub.some((m) => m.msg_type === "status" && m.content.execution_state === "busy" &&
                                            m.parent_header.msg_id === id);
    }, spinning);
    const interruptedAt = Date.now();
    await lua.evaluate(() => Jupyter.notebook.kernel.interrupt());
    await outputOf(lua, spinning, /interrupted/, 20000);
    const interruptMs = Date.now() - interruptedAt;
    await shot(lua, "interrupted");
    await lua.evaluate(() => Jupyter.notebook.kernel.restart());
    await until(lua, "the restarted kernel to be idle", () =>
      Jupyter.notebook.kernel.is_connected() && document.querySelector("#kernel_indicator_icon.kernel_idle_icon"));
    await listen(lua);
    await outputOf(lua, await typeAndRun(lua, "print(kept)"), /^\s*nil\s*$/);
    await shot(lua, "restarted");

    // JavaScript: a notebook maps an array and shows it.
    await newNotebook("js.ipynb", "llmspell-javascript-default");
    const js = current = await openNotebook(context, "js.ipynb");
    kernels.push(await kernelId(js));
    const shown = await outputOf(js, await typeAndRun(js, "[1,2,3].map(x => x*2)"), /2,\s*4,\s*6/);
    await shot(js, "javascript");

    // Closing a notebook shuts its kernel down (File > Close and Halt).
    for (const page of [lua, js]) {
      // What Close and Halt does: the session deleted (its kernel shut down), then the window closed.
      await page.evaluate(() => new Promise((resolve, reject) =>
        Jupyter.notebook.session.delete(resolve, (xhr, status, error) => reject(new Error(`${status} ${error}`)))));
      await page.close();
    }
    console.log(JSON.stringify({kernels, interrupt_ms: interruptMs, javascript_output: shown.trim()}));
  } catch (e) {
    if (current) await shot(current, "failure").catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});

// serve's dashboard in a real browser (Debian's headless Chromium through playwright-core), against
// a serve and a compose project that test_dashboard.py started: a kernel spawned from the command
// line fills its row, one stopped from the command line is gone within 2 s, a CPU load on the
// autoscaled service shows as a scale-up on its chart, and the page asks nothing of any other origin.
// Exits non-zero on failure; the harness removes what was created.
"use strict";

const {spawn} = require("child_process");
const fs = require("fs");
const path = require("path");
const {chromium} = require("playwright-core");

const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set (run through test_dashboard.py)`);
  return process.env[name];
};
const URL_WITH_TOKEN = env("DASHBOARD_URL");
const ORIGIN = new URL(URL_WITH_TOKEN).origin;
const CLI = env("FLEET_CLI");
const ARTIFACTS = env("DASHBOARD_ARTIFACTS");
const COMPOSE = ["-f", env("FLEET_COMPOSE"), "-p", env("FLEET_PROJECT")];
const LABELS = Object.entries(JSON.parse(env("FLEET_TEST_LABELS"))).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
const OWNER = `dash${process.pid}`;

// The CLI, to its end: its stdout, or an error with its stderr.
function fleet(args, {timeout = 180000} = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, {stdio: ["ignore", "pipe", "pipe"]});
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
    child.on("close", (code) => {
      clearTimeout(timer);
      code === 0 ? resolve(out) : reject(new Error(`llmspell-fleet ${args.join(" ")}: exit ${code}: ${err}`));
    });
  });
}

// Polls `predicate` in the page until it returns something truthy. (Not page.waitForFunction: its
// polling evaluates a string, which the page's Content-Security-Policy rightly refuses.)
async function waitInPage(page, predicate, arg, timeout, what) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(predicate, arg);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeout} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function main() {
  fs.mkdirSync(ARTIFACTS, {recursive: true});
  for (const old of fs.readdirSync(ARTIFACTS)) if (/^dashboard-.*\.png$/.test(old)) fs.rmSync(path.join(ARTIFACTS, old));
  const shot = (page, name) => page.screenshot({path: path.join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true});
  const browser = await chromium.launch({executablePath: "/usr/bin/chromium-headless-shell", args: ["--no-sandbox"]});
  const children = [];
  let page;
  try {
    page = await browser.newPage({viewport: {width: 1400, height: 1000}});
    const requests = [], problems = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));

    // Without the token: refused, like the API.
    const refused = await page.goto(ORIGIN + "/");
    check(refused.status() === 401, `GET / without the token: ${refused.status()}`);
    problems.length = 0;  // the browser reports the 401 itself

    const loaded = await page.goto(URL_WITH_TOKEN);
    check(loaded.status() === 200, `GET /?token=: ${loaded.status()}`);
    await page.waitForSelector('#connection[data-state="live"]', {timeout: 10000});
    await waitInPage(page, () => Boolean(window.Chart && window.fleetDashboard), null, 10000, "the page's scripts");

    // A kernel spawned from the command line: its row, then its CPU and memory samples.
    const spawned = JSON.parse(await fleet(["spawn", "--json", "--owner", OWNER, ...LABELS]));
    const id = spawned.kernel_id;
    check(id, "spawn --json gave no kernel_id");
    const kernelRow = `#kernels tr[data-kernel-id="${id}"]`;
    await page.waitForSelector(kernelRow, {timeout: 5000});
    const cells = await page.$$eval(`${kernelRow} td`, (tds) => tds.map((td) => td.textContent));
    check(cells.includes(OWNER) && cells.includes("running"), `the kernel's row: ${cells}`);
    await waitInPage(page, (sel) => [...document.querySelectorAll(`${sel} svg`)]
        .every((s) => Number(s.dataset.samples) >= 2), kernelRow, 15000, "two CPU and memory samples");
    const memory = await page.$eval(`${kernelRow} td:nth-child(9)`, (td) => td.textContent);
    check(/MiB \/ \d+(\.\d)? MiB/.test(memory), `memory cell: ${memory}`);
    await shot(page, "kernel");

    // Stopped from the command line: the row is gone within 2 s of the command's end.
    await fleet(["stop", id, "-t", "1", "--drain-timeout", "1", "--no-checkpoint"]);
    const stopped = Date.now();
    await page.waitForSelector(kernelRow, {state: "detached", timeout: 2000})
        .catch(() => { throw new Error(`the stopped kernel's row still there after ${Date.now() - stopped} ms`); });
    console.log(`row gone ${Date.now() - stopped} ms after stop returned`);
    // It came through GET /events too, not only through the polling.
    await waitInPage(page, (name) => [...document.querySelectorAll('#events li[data-type="removed"]')]
        .some((li) => li.textContent.includes(name)), spawned.container, 2000, "the removed event in the log");

    // The service's warm pool (x-fleet.warm_pool of `cpu`) is listed with its counters.
    await page.waitForSelector('#pools tr[data-pool="service cpu"]', {timeout: 30000});

    // A CPU load on the cpu service's replica: the autoscaler scales up, and the chart shows it.
    const load = spawn(CLI, [...COMPOSE, "shell", "cpu", "timeout", "25", "sh", "-c", "while :; do :; done"],
                       {stdio: "ignore"});
    children.push(load);
    const scaled = await waitInPage(page, () => {
      const chart = window.fleetDashboard.charts.get("cpu");
      if (!chart) return null;
      const series = (label) => chart.data.datasets.find((d) => d.label === label).data;
      const target = series("target replicas"), actual = series("replicas");
      const up = target.findIndex((t, i) => t > actual[i]);
      return up >= 0 && actual.slice(up).some((n) => n >= 2) ? {target: target[up], labels: chart.data.labels.length} : null;
    }, null, 60000, "a scale-up of cpu on its chart");
    console.log(`chart: scale-up to ${scaled.target} replicas, ${scaled.labels} points`);
    await page.waitForSelector("#decisions li .scale_up", {timeout: 5000});
    await shot(page, "scaled");

    const foreign = requests.filter((u) => !u.startsWith(ORIGIN + "/"));
    check(foreign.length === 0, `requests outside the fleet: ${foreign}`);
    check(requests.some((u) => u.startsWith(ORIGIN + "/dashboard/chart.min.js")), "Chart.js not loaded from the fleet");
    check(problems.length === 0, `errors in the page: ${problems.join("; ")}`);
  } catch (e) {
    if (page) await shot(page, "failure").catch(() => {});
    throw e;
  } finally {
    for (const c of children) c.kill("SIGKILL");
    await browser.close();
  }
}

main().then(() => console.log("dashboard: ok"), (e) => {
  console.error("dashboard: FAILED: " + (e.stack || e));
  process.exit(1);
});

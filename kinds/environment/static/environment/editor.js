/**
 * The environment author's editor: instruction, a tree of starting files (typed or from a zip),
 * tools, a verifier (state checks, a test script, rubric claims), a reference solution and a
 * wrong attempt, difficulty and time; Check asks the sandbox to prove the current version
 * (the proof panel polls itself with htmx).
 *
 * The result is the public shape of kinds/environment/kind.py. Zip files are read in the
 * browser (the central directory, then each entry through DecompressionStream), so nothing is
 * uploaded before the author sees the files.
 */

const ZIP_TEXT_LIMIT = 1_000_000;

function parseValue(text) {
  const trimmed = text.trim();
  if (trimmed === "") return "";
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}

function showValue(value) {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The text files of a zip archive as {path: text}; folders and binary files are left out. */
export async function readZip(buffer, { maxFiles, maxBytes }) {
  const view = new DataView(buffer);
  let end = -1;
  for (let i = buffer.byteLength - 22; i >= Math.max(0, buffer.byteLength - 65_557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) { end = i; break; }
  }
  if (end < 0) throw new Error("This is not a zip file.");
  const count = view.getUint16(end + 10, true);
  let offset = view.getUint32(end + 16, true);
  const files = {};
  const skipped = [];
  let total = 0;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (let n = 0; n < count; n++) {
    if (view.getUint32(offset, true) !== 0x02014b50) throw new Error("The zip's directory is damaged.");
    const method = view.getUint16(offset + 10, true);
    const compressedSize = view.getUint32(offset + 20, true);
    const size = view.getUint32(offset + 24, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const local = view.getUint32(offset + 42, true);
    const name = new TextDecoder().decode(new Uint8Array(buffer, offset + 46, nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith("/") || name.startsWith("__MACOSX/")) continue;
    if (Object.keys(files).length >= maxFiles) throw new Error(`More than ${maxFiles} files.`);
    if (size > ZIP_TEXT_LIMIT) { skipped.push(name); continue; }
    const localName = view.getUint16(local + 26, true);
    const localExtra = view.getUint16(local + 28, true);
    const start = local + 30 + localName + localExtra;
    const raw = new Uint8Array(buffer, start, compressedSize);
    let bytes;
    if (method === 0) bytes = raw;
    else if (method === 8) bytes = await inflate(raw);
    else { skipped.push(name); continue; }
    let text;
    try {
      text = decoder.decode(bytes);
    } catch {
      skipped.push(name);
      continue;
    }
    total += bytes.length;
    if (total > maxBytes) throw new Error(`More than ${maxBytes} bytes in all.`);
    files[name] = text;
  }
  return { files, skipped };
}

export function mount(root, config) {
  const schema = config.schema || {};
  const limits = schema.limits || { files: 200, bytes: 5_000_000 };
  const listeners = new Set();
  const cleanups = [];
  const field = (name) => root.querySelector(`[data-field="${name}"]`);
  const lists = {
    files: root.querySelector('[data-list="files"]'),
    checks: root.querySelector('[data-list="checks"]'),
    rubric: root.querySelector('[data-list="rubric"]'),
  };
  const templates = {
    files: root.querySelector('template[data-template="file"]'),
    checks: root.querySelector('template[data-template="check"]'),
    rubric: root.querySelector('template[data-template="claim"]'),
  };

  function changed() {
    refreshTree();
    const result = getResult();
    for (const listener of listeners) listener(result);
  }

  function addRow(list, values = {}) {
    if (!lists[list]) return null;
    const row = templates[list].content.firstElementChild.cloneNode(true);
    for (const input of row.querySelectorAll("[data-key]")) {
      const value = values[input.dataset.key];
      if (value !== undefined && value !== null) input.value = String(value);
    }
    lists[list].append(row);
    return row;
  }

  function rows(list) {
    return lists[list] ? [...lists[list].children] : [];
  }

  function value(row, key) {
    return row.querySelector(`[data-key="${key}"]`)?.value ?? "";
  }

  function getFiles() {
    const files = {};
    for (const row of rows("files")) {
      const path = value(row, "path").trim();
      if (path) files[path] = value(row, "text");
    }
    return files;
  }

  function getChecks() {
    return rows("checks").map((row) => {
      const check = { file: value(row, "file").trim(), op: value(row, "op") };
      const target = value(row, "target");
      if (target === "json") check.json = value(row, "json").trim() || "$";
      if (target === "csv") {
        const column = value(row, "column").trim();
        check.csv = { row: Number(value(row, "row") || 1), column: /^\d+$/.test(column) ? Number(column) : column };
      }
      const raw = value(row, "value");
      if (check.op === "exists") check.value = raw.trim() !== "false";
      else if (check.op === "regex") check.value = raw;
      else check.value = parseValue(raw);
      const weight = Number(value(row, "weight") || 1);
      if (weight !== 1) check.weight = weight;
      return check;
    });
  }

  function getResult() {
    const verifier = {};
    const checks = getChecks();
    if (checks.length) {
      verifier.checks = checks;
      verifier.checks_mode = field("checks_mode")?.value || "all";
    }
    const language = field("script_language")?.value;
    if (language) verifier.script = { language, code: field("script_code").value };
    const claims = rows("rubric")
      .map((row) => ({ claim: value(row, "claim").trim(), points: Number(value(row, "points") || 1) }))
      .filter((claim) => claim.claim);
    if (claims.length) verifier.rubric = claims;
    const minutes = Number(field("expected_minutes").value);
    return {
      instruction: field("instruction").value,
      files: getFiles(),
      tools: [...root.querySelectorAll("[data-tool]")].filter((box) => box.checked).map((box) => box.dataset.tool),
      verifier,
      solution: field("solution").value,
      wrong_attempt: field("wrong_attempt").value,
      difficulty: field("difficulty").value || null,
      expected_minutes: Number.isFinite(minutes) && minutes > 0 ? Math.round(minutes) : null,
    };
  }

  function setResult(result) {
    const r = result || {};
    field("instruction").value = r.instruction || "";
    for (const list of Object.keys(lists)) for (const row of rows(list)) row.remove();
    for (const [path, text] of Object.entries(r.files || {})) addRow("files", { path, text });
    for (const box of root.querySelectorAll("[data-tool]")) box.checked = (r.tools || []).includes(box.dataset.tool);
    const verifier = r.verifier || {};
    for (const check of verifier.checks || []) {
      const target = check.json !== undefined ? "json" : check.csv ? "csv" : "text";
      addRow("checks", {
        file: check.file, op: check.op, target, json: check.json, row: check.csv?.row,
        column: check.csv?.column, value: showValue(check.value), weight: check.weight ?? 1,
      });
    }
    if (field("checks_mode")) field("checks_mode").value = verifier.checks_mode || "all";
    if (field("script_language")) {
      field("script_language").value = verifier.script?.language || "";
      field("script_code").value = verifier.script?.code || "";
    }
    for (const claim of verifier.rubric || []) addRow("rubric", claim);
    field("solution").value = r.solution || "";
    field("wrong_attempt").value = r.wrong_attempt || "";
    field("difficulty").value = r.difficulty || "";
    field("expected_minutes").value = r.expected_minutes ?? "";
    refreshTree();
  }

  function refreshTree() {
    const files = getFiles();
    const names = Object.keys(files).sort();
    const bytes = names.reduce((sum, name) => sum + new TextEncoder().encode(files[name]).length, 0);
    const usage = root.querySelector('[data-testid="env-usage"]');
    if (usage) usage.textContent = `${names.length} of ${limits.files} files · ${bytes.toLocaleString()} of ${Number(limits.bytes).toLocaleString()} bytes`;
    const tree = root.querySelector('[data-testid="env-tree"]');
    if (tree) {
      tree.replaceChildren(...names.map((name) => {
        const item = document.createElement("li");
        const depth = name.split("/").length - 1;
        item.textContent = name;
        item.style.paddingLeft = `${depth}em`;
        return item;
      }));
    }
  }

  function validate() {
    const r = getResult();
    const problems = [];
    if (!r.instruction.trim()) problems.push("Write the instruction for the agent.");
    const count = Object.keys(r.files).length;
    if (count > limits.files) problems.push(`At most ${limits.files} files.`);
    if (!r.verifier.checks && !r.verifier.script) problems.push("Give state checks or a test script.");
    if (!r.solution.trim()) problems.push("Write the reference solution.");
    if (!r.difficulty) problems.push("Choose a difficulty.");
    if (!r.expected_minutes) problems.push("Say how many minutes the task needs.");
    return problems;
  }

  async function uploadZip(input) {
    const file = input.files?.[0];
    if (!file) return;
    const usage = root.querySelector('[data-testid="env-usage"]');
    try {
      const { files, skipped } = await readZip(await file.arrayBuffer(), { maxFiles: limits.files, maxBytes: limits.bytes });
      const current = getFiles();
      for (const row of rows("files")) row.remove();
      for (const [path, text] of Object.entries({ ...current, ...files })) addRow("files", { path, text });
      changed();
      if (skipped.length && usage) usage.textContent += ` · left out (not text): ${skipped.join(", ")}`;
    } catch (error) {
      if (usage) usage.textContent = `The zip could not be read: ${error.message}`;
    }
    input.value = "";
  }

  const onClick = (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || !root.contains(button)) return;
    const action = button.dataset.action;
    if (action === "add-file") addRow("files")?.querySelector("input")?.focus();
    else if (action === "add-check") addRow("checks", { op: "eq", weight: 1 })?.querySelector("input")?.focus();
    else if (action === "add-claim") addRow("rubric", { points: 1 })?.querySelector("input")?.focus();
    else if (action === "remove") button.closest('[data-list] > *')?.remove();
    else return;
    changed();
  };
  const onInput = (event) => {
    if (event.target.matches('[data-action="upload-zip"]')) return;
    if (root.contains(event.target)) changed();
  };
  const onChange = (event) => {
    if (event.target.matches('[data-action="upload-zip"]')) uploadZip(event.target);
    else if (root.contains(event.target)) changed();
  };
  root.addEventListener("click", onClick);
  root.addEventListener("input", onInput);
  root.addEventListener("change", onChange);
  cleanups.push(() => {
    root.removeEventListener("click", onClick);
    root.removeEventListener("input", onInput);
    root.removeEventListener("change", onChange);
  });

  // Check sends the version on screen.
  const proofForm = root.querySelector("#proof-form");
  if (proofForm) {
    const fill = (event) => {
      if (event.detail.elt !== proofForm) return;
      event.detail.parameters.result = JSON.stringify(getResult());
    };
    const fillPlain = () => {
      proofForm.querySelector("[data-proof-result]").value = JSON.stringify(getResult());
    };
    document.addEventListener("htmx:configRequest", fill);
    proofForm.addEventListener("submit", fillPlain);
    cleanups.push(() => {
      document.removeEventListener("htmx:configRequest", fill);
      proofForm.removeEventListener("submit", fillPlain);
    });
  }

  setResult(config.initial_result);

  return {
    getResult,
    setResult: (result) => { setResult(result); changed(); },
    validate,
    onChange(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    destroy() {
      for (const cleanup of cleanups) cleanup();
      listeners.clear();
    },
  };
}

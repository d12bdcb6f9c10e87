/**
 * The rubric-eval editor: `mount(root, config)` → { getResult, setResult, validate, onChange, destroy }.
 *
 * Grade mode: the rubric beside the response, one key per criterion (1–9, 0, then letters):
 * the first press marks it met, the next not met, and so on; Alt+N marks every open criterion
 * not met; Alt+E quotes the selected words of the response as the evidence of the criterion
 * last marked. The work screen's Ctrl+Enter submits and shows the next response at once (it is
 * fetched ahead).
 * Write mode: rows of criterion, points (−10…10, not 0) and tags; Alt+N adds a row.
 */

import { Shortcuts } from "../js/lib/keyboard.js";

const GROUP = "Rubric";
const KEYS = [..."1234567890", ..."qwertyuopasdfghjklzxcvbnm"]; // no "i": instructions

export function mount(root, config) {
  const shortcuts = config.shortcuts || new Shortcuts();
  const listeners = new Set();
  const cleanups = [];
  const mode = (config.schema && config.schema.mode) || "grade";
  const editor = mode === "write" ? writeEditor(root, config, emit) : gradeEditor(root, config, emit);

  function emit() {
    editor.render();
    const result = editor.getResult();
    for (const listener of listeners) listener(result);
  }

  for (const binding of editor.shortcuts) {
    cleanups.push(shortcuts.add({ group: GROUP, ...binding }));
  }
  if (config.initial_result) editor.setResult(config.initial_result);
  editor.render();

  return {
    getResult: () => editor.getResult(),
    setResult(result) {
      editor.setResult(result || {});
      emit();
    },
    validate: () => editor.validate(),
    onChange(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    destroy() {
      for (const cleanup of cleanups) cleanup();
      editor.destroy();
      listeners.clear();
    },
  };
}

function gradeEditor(root, config, emit) {
  const rows = [...root.querySelectorAll("[data-criterion]")];
  const verdicts = new Map(); // id → { met, evidence? }
  const response = root.querySelector(".re-response-body");
  const tally = root.querySelector(".re-tally");
  const rubric = (config.data && config.data.rubric) || [];
  let current = null;
  const offs = [];

  function mark(id, met) {
    const before = verdicts.get(id) || {};
    verdicts.set(id, { ...before, met });
    current = id;
    emit();
  }

  function press(id) {
    const before = verdicts.get(id);
    mark(id, !(before && before.met === true));
  }

  rows.forEach((row, index) => {
    const key = KEYS[index];
    if (key) row.querySelector(".re-key").textContent = key.toUpperCase();
    const onClick = (event) => {
      const button = event.target.closest("[data-met]");
      if (button) mark(row.dataset.criterion, button.dataset.met === "true");
    };
    row.addEventListener("click", onClick);
    offs.push(() => row.removeEventListener("click", onClick));
  });

  const shortcuts = rows
    .map((row, index) => KEYS[index] && {
      keys: [KEYS[index]],
      description: `Criterion ${index + 1}: met, then not met`,
      run: () => press(row.dataset.criterion),
    })
    .filter(Boolean);
  shortcuts.push({
    keys: ["alt+n"],
    description: "Every open criterion: not met",
    inInputs: true,
    run: () => {
      for (const row of rows) {
        if (!verdicts.has(row.dataset.criterion)) verdicts.set(row.dataset.criterion, { met: false });
      }
      emit();
    },
  });
  shortcuts.push({
    keys: ["alt+e"],
    description: "Quote the selected words as evidence of the criterion last marked",
    inInputs: true,
    run: () => {
      const selection = window.getSelection();
      const text = selection ? selection.toString().trim() : "";
      if (!current || !text || !response || !response.contains(selection.anchorNode)) return false;
      verdicts.set(current, { ...(verdicts.get(current) || { met: true }), evidence: text });
      emit();
      return true;
    },
  });

  return {
    shortcuts,
    getResult() {
      const out = {};
      for (const [id, verdict] of verdicts) {
        out[id] = verdict.evidence ? { met: verdict.met, evidence: verdict.evidence } : { met: verdict.met };
      }
      return { verdicts: out };
    },
    setResult(result) {
      verdicts.clear();
      for (const [id, verdict] of Object.entries((result && result.verdicts) || {})) {
        if (verdict && typeof verdict.met === "boolean") verdicts.set(id, { ...verdict });
      }
    },
    validate() {
      const open = rubric.filter((criterion) => !verdicts.has(criterion.id)).length;
      return open ? [`${open} criteria are not graded yet (press their keys, or Alt+N for "not met").`] : [];
    },
    render() {
      let earned = 0;
      let possible = 0;
      for (const row of rows) {
        const verdict = verdicts.get(row.dataset.criterion);
        row.classList.toggle("met", Boolean(verdict && verdict.met));
        row.classList.toggle("not-met", Boolean(verdict && !verdict.met));
        row.classList.toggle("current", row.dataset.criterion === current);
        for (const button of row.querySelectorAll("[data-met]")) {
          button.setAttribute("aria-checked", String(Boolean(verdict) && String(verdict.met) === button.dataset.met));
        }
        const quote = row.querySelector(".re-evidence");
        if (quote) {
          quote.hidden = !(verdict && verdict.evidence);
          quote.textContent = (verdict && verdict.evidence) || "";
        }
      }
      for (const criterion of rubric) {
        if (criterion.points > 0) possible += criterion.points;
        const verdict = verdicts.get(criterion.id);
        if (verdict && verdict.met) earned += criterion.points;
      }
      const score = possible ? Math.min(1, Math.max(0, earned / possible)) : 0;
      tally.textContent = `${verdicts.size} of ${rubric.length} graded · score so far ${(score * 100).toFixed(0)}%`;
    },
    destroy() {
      for (const off of offs) off();
    },
  };
}

function writeEditor(root, config, emit) {
  const list = root.querySelector(".re-rows");
  const template = root.querySelector(".re-row-template");
  const tally = root.querySelector(".re-tally");
  const addButton = root.querySelector(".re-add");

  function addRow(criterion = { criterion: "", points: 5, tags: [] }, focus = false) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.querySelector(".re-row-text").value = criterion.criterion || "";
    row.querySelector(".re-row-points").value = String(criterion.points ?? 5);
    row.querySelector(".re-row-tags").value = (criterion.tags || []).join(", ");
    if (criterion.id) row.dataset.id = criterion.id;
    list.append(row);
    if (focus) row.querySelector(".re-row-text").focus();
    return row;
  }

  const onInput = () => emit();
  const onClick = (event) => {
    const remove = event.target.closest(".re-row-remove");
    if (remove) {
      remove.closest(".re-row").remove();
      emit();
    }
  };
  const onAdd = () => {
    addRow(undefined, true);
    emit();
  };
  list.addEventListener("input", onInput);
  list.addEventListener("click", onClick);
  addButton.addEventListener("click", onAdd);

  function rows() {
    return [...list.querySelectorAll(".re-row")];
  }

  function rubricOf() {
    // A new row takes the first cN no other row has (an inserted row must not take the id of
    // a criterion below it).
    const taken = new Set(rows().map((row) => row.dataset.id).filter(Boolean));
    let next = 1;
    const freshId = () => {
      while (taken.has(`c${next}`)) next += 1;
      taken.add(`c${next}`);
      return `c${next}`;
    };
    return rows().map((row) => ({
      id: row.dataset.id || freshId(),
      criterion: row.querySelector(".re-row-text").value.trim(),
      points: Number(row.querySelector(".re-row-points").value),
      tags: row.querySelector(".re-row-tags").value.split(",").map((tag) => tag.trim()).filter(Boolean),
    }));
  }

  const start = (config.data && config.data.rubric) || [];
  for (const criterion of start) addRow(criterion);
  if (!start.length) addRow();

  return {
    shortcuts: [{ keys: ["alt+n"], description: "Add a criterion", inInputs: true, run: onAdd }],
    getResult: () => ({ rubric: rubricOf() }),
    setResult(result) {
      list.replaceChildren();
      for (const criterion of (result && result.rubric) || []) addRow(criterion);
    },
    validate() {
      const messages = [];
      const rubric = rubricOf();
      if (!rubric.length) messages.push("Write at least one criterion.");
      rubric.forEach((criterion, index) => {
        if (!criterion.criterion) messages.push(`Criterion ${index + 1} has no words.`);
        if (!Number.isInteger(criterion.points) || criterion.points === 0 || Math.abs(criterion.points) > 10) {
          messages.push(`Criterion ${index + 1}: points are a whole number from −10 to 10, not 0.`);
        }
      });
      if (rubric.length && !rubric.some((criterion) => criterion.points > 0)) {
        messages.push("At least one criterion must earn points (positive).");
      }
      return messages;
    },
    render() {
      const rubric = rubricOf();
      const possible = rubric.reduce((sum, c) => sum + (c.points > 0 ? c.points : 0), 0);
      tally.textContent = `${rubric.length} criteria · ${possible} points to earn`;
    },
    destroy() {
      list.removeEventListener("input", onInput);
      list.removeEventListener("click", onClick);
      addButton.removeEventListener("click", onAdd);
    },
  };
}

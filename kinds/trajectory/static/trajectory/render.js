/**
 * Drawing the answer onto the server-rendered run: each judged step's rating row, marks and
 * correction, the minimap's colours, the run panel and the picker. A change redraws only the
 * steps it touches (a first error redraws the steps from the earlier of the old and new one).
 */

import { argumentsText, stepText, wordDiff } from "./state.js";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children);
  return node;
}

function ratingClass(answer, rating) {
  if (!rating) return "";
  const index = answer.ratings.indexOf(rating);
  if (index === 0) return "is-correct";
  return index >= answer.ratings.length - 1 ? "is-wrong" : "is-partial";
}

export class RunView {
  constructor(root, answer) {
    this.root = root;
    this.answer = answer;
    this.cards = [...root.querySelectorAll(".tj-step")];
    this.cells = [...root.querySelectorAll(".tj-cell")];
    this.cardById = new Map(this.cards.map((card) => [card.dataset.step, card]));
    this.cellById = new Map(this.cells.map((cell, i) => [this.cards[i].dataset.step, cell]));
    this.progress = root.querySelector("[data-testid=judged-count]");
    this.picker = root.querySelector("[data-testid=picker]");
  }

  /** Redraw one judged step: rating buttons, error type, correction summary, minimap cell. */
  step(id) {
    const card = this.cardById.get(id);
    if (!card) return;
    const answer = this.answer;
    const rating = answer.ratingOf(id);
    const box = card.querySelector("[data-judgement]");
    const first = answer.firstError() === id;
    card.classList.toggle("is-first-error", first);
    card.classList.remove("is-correct", "is-partial", "is-wrong");
    const cls = ratingClass(answer, rating);
    if (cls) card.classList.add(cls);
    const cell = this.cellById.get(id);
    if (cell) {
      cell.classList.remove("is-correct", "is-partial", "is-wrong");
      if (cls) cell.classList.add(cls);
      cell.classList.toggle("is-first-error", first);
    }
    const row = el("div", { className: "tj-ratings", role: "group", "aria-label": "Rating" });
    if (answer.mode === "per_step") {
      answer.ratings.forEach((word, i) => {
        row.append(el("button", {
          type: "button", className: "tj-choice", "aria-pressed": String(rating === word),
          dataset: { rate: word },
        }, el("kbd", {}, String(i + 1)), ` ${word}`));
      });
    } else {
      row.append(el("button", {
        type: "button", className: "tj-choice", "aria-pressed": String(first), dataset: { firstError: "1" },
      }, el("kbd", {}, "e"), first ? " first wrong step" : " mark as the first wrong step"));
      if (rating) row.append(el("span", { className: `tj-derived ${cls}` }, rating));
    }
    const detail = answer.details.get(id) || {};
    if (detail.error) {
      row.append(el("span", { className: `badge tj-error sev-${detail.severity}`, "data-testid": "step-error" }, `${detail.error} · ${detail.severity}`));
    }
    if (first) row.append(el("span", { className: "badge tj-first", "data-testid": "first-error-badge" }, "first error"));
    const correction = answer.corrections.get(id);
    box.replaceChildren(row);
    if (detail.note && detail.note.trim()) box.append(el("p", { className: "tj-note-text", "data-testid": "note-text" }, `Note: ${detail.note}`));
    if (correction) box.append(this.correctionSummary(id, correction));
    const mark = card.querySelector("[data-mark]");
    if (mark) mark.textContent = rating ? rating : "";
  }

  correctionSummary(id, correction) {
    const original = this.answer.byId.get(id);
    const after = correction.tool ? stepText({ type: "tool_call", tool: correction.tool }) : correction.content;
    return el("div", { className: "tj-correction-summary", "data-testid": "correction-summary" },
      el("strong", {}, "Correction: "), diffNode(stepText(original), after));
  }

  all() {
    for (const id of this.answer.judged) this.step(id);
    this.counts();
  }

  counts() {
    const answer = this.answer;
    const wrong = answer.judged.filter((id) => answer.isWrong(id)).length;
    const rated = answer.mode === "per_step" ? answer.rated.size : answer.judged.length;
    const first = answer.firstError();
    const index = first ? answer.steps.findIndex((s) => s.id === first) + 1 : null;
    this.progress.textContent = `${rated} of ${answer.judged.length} agent steps judged · ${wrong} not correct · `
      + (first ? `first error at #${index}` : "no wrong step marked")
      + ` · ${answer.corrections.size} correction${answer.corrections.size === 1 ? "" : "s"}`
      + ` · verdict ${answer.verdict || "—"}`;
  }

  focus(index, { scroll = true } = {}) {
    for (const card of this.root.querySelectorAll(".tj-step.is-focused")) card.classList.remove("is-focused");
    for (const cell of this.root.querySelectorAll(".tj-cell.is-focused")) cell.classList.remove("is-focused");
    const card = this.cards[index];
    if (!card) return;
    card.classList.add("is-focused");
    if (this.cells[index]) this.cells[index].classList.add("is-focused");
    if (scroll) card.scrollIntoView({ block: "nearest" });
  }

  runPanel() {
    const answer = this.answer;
    for (const button of this.root.querySelectorAll("[data-verdict]")) {
      button.setAttribute("aria-pressed", String(answer.verdict === button.dataset.verdict));
    }
    for (const set of this.root.querySelectorAll("[data-criterion]")) {
      const value = answer.scores[set.dataset.criterion];
      for (const button of set.querySelectorAll("[data-point]")) {
        button.setAttribute("aria-pressed", String(Number(button.dataset.point) === value));
      }
    }
    for (const button of this.root.querySelectorAll("[data-mode]")) {
      button.setAttribute("aria-pressed", String(answer.failureModes.has(button.dataset.mode)));
    }
    const critique = this.root.querySelector("[data-testid=critique]");
    if (critique && critique.value !== answer.critique) critique.value = answer.critique;
  }

  /** The picker: a titled list of numbered options (digits choose, Esc closes). With a
   * ``filter`` ({onInput, onKey}), a search box above the list takes the keys: typing finds
   * options past the ninth, digits and Enter choose among those shown. */
  showPicker(title, options, { filter = null } = {}) {
    this.pickerList = el("ol", {});
    const parts = [el("p", { className: "tj-picker-title" }, title)];
    let box = null;
    if (filter) {
      box = el("input", { type: "search", className: "tj-picker-filter", autocomplete: "off", placeholder: "Type to find one", "aria-label": "Find in the list", "data-testid": "picker-filter" });
      box.addEventListener("input", () => filter.onInput(box.value));
      box.addEventListener("keydown", (event) => filter.onKey(event));
      parts.push(box);
    }
    parts.push(this.pickerList, el("p", { className: "help" }, filter ? "Type to find · digits choose · Enter the first · Esc closes" : "Digits choose · Esc closes"));
    this.picker.replaceChildren(...parts);
    this.pickerOptions(options);
    this.picker.hidden = false;
    if (box) box.focus();
  }

  /** The picker's options again (after a choice, or as the search box narrows them). */
  pickerOptions(options) {
    this.pickerList.replaceChildren(...options.map((option, i) => el("li", {},
      el("button", { type: "button", className: "tj-choice", "aria-pressed": String(Boolean(option.pressed)), dataset: { pick: String(i) } },
        el("kbd", {}, String(i + 1)), ` ${option.label}`))));
  }

  hidePicker() {
    this.picker.hidden = true;
    this.picker.replaceChildren();
  }
}

export function diffNode(before, after) {
  const node = el("span", { className: "word-diff" });
  for (const [op, text] of wordDiff(before, after)) {
    const tag = op === "del" ? "del" : op === "ins" ? "ins" : "span";
    node.append(el(tag, {}, text), " ");
  }
  return node;
}

/** The correction editor under a step, prefilled with the original step. */
export function correctionEditor({ step, existing, tools }) {
  const asTool = existing ? Boolean(existing.tool) : step.type === "tool_call";
  // data-alt-enter: Alt+Enter here saves the correction (the review screen leaves it to us).
  const box = el("section", { className: "tj-correction", "data-testid": "correction-editor", "aria-label": "Correct this step", "data-alt-enter": "" });
  const toolNames = [...tools.keys()];
  const kind = el("select", { "data-testid": "correction-kind", "aria-label": "The corrected step is" },
    el("option", { value: "tool" }, "a tool call"), el("option", { value: "message" }, "a message"));
  kind.value = asTool ? "tool" : "message";
  const startTool = existing && existing.tool ? existing.tool : (step.type === "tool_call" ? step.tool : { name: toolNames[0] || "", arguments: {} });
  const name = toolNames.length
    ? el("select", { "data-testid": "correction-tool", "aria-label": "Tool" }, ...toolNames.map((n) => el("option", { value: n }, n)))
    : el("input", { type: "text", "data-testid": "correction-tool", "aria-label": "Tool", maxlength: "200" });
  name.value = startTool.name || "";
  const args = el("textarea", { "data-testid": "correction-arguments", rows: "6", "aria-label": "Arguments (JSON)", spellcheck: "false" });
  args.value = argumentsText(startTool.arguments);
  const text = el("textarea", { "data-testid": "correction-content", rows: "5", "aria-label": "The step as it should have been" });
  text.value = existing && existing.content !== undefined ? existing.content : (step.type === "tool_call" ? "" : step.content || "");
  const toolPart = el("div", { className: "tj-correction-tool" }, el("label", {}, "Tool ", name), el("label", {}, "Arguments (JSON) ", args));
  const textPart = el("div", { className: "tj-correction-text" }, el("label", {}, "Message ", text));
  const diff = el("p", { className: "tj-diff", "data-testid": "correction-diff", "aria-live": "polite" });
  const error = el("p", { className: "field-error", "data-testid": "correction-error", role: "alert" });
  const save = el("button", { type: "button", className: "primary", "data-action": "save-correction" }, "Save correction ", el("kbd", {}, "Alt+Enter"));
  const remove = el("button", { type: "button", className: "link danger", "data-action": "remove-correction" }, "Remove");
  const cancel = el("button", { type: "button", className: "link", "data-action": "close-correction" }, "Close ", el("kbd", {}, "Esc"));
  box.append(el("p", {}, el("strong", {}, "Correct this step"), " as it should have been: ", kind), toolPart, textPart, diff, error,
    el("p", { className: "actions" }, save, " ", remove, " ", cancel));
  const sync = () => {
    const tool = kind.value === "tool";
    toolPart.hidden = !tool;
    textPart.hidden = tool;
  };
  sync();
  return { box, kind, name, args, text, diff, error, sync };
}

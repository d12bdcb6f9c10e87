/**
 * Input: one registered shortcut per key (the page's `?` lists them) and one delegated click
 * handler for the whole editor. Every change goes through the RunAnswer, then the view redraws
 * what it touched and the editor emits the new result.
 */

import { VERDICTS, parseToolCorrection, stepText } from "./state.js";
import { correctionEditor, diffNode, el } from "./render.js";

const GROUP = "Agent run";

export function bind(ctx) {
  const { root, answer, view, shortcuts } = ctx;
  const cleanups = [];
  const add = (keys, description, run, extra = {}) => cleanups.push(shortcuts.add({ keys, description, group: GROUP, run, ...extra }));

  const focusedId = () => {
    const card = view.cards[ctx.focused];
    return card && card.dataset.judged !== undefined ? card.dataset.step : null;
  };

  function changed(ids) {
    for (const id of ids) view.step(id);
    view.counts();
    view.runPanel();
    ctx.emit();
  }

  /** After a change of ratings, redraw the steps whose derived rating may have moved. */
  function changedFrom(before) {
    const after = answer.firstError();
    const touched = new Set([focusedId(), before, after].filter(Boolean));
    if (answer.mode === "first_error") {
      const positions = [before, after].map((id) => (id === null ? answer.judged.length : answer.position.get(id)));
      const start = Math.min(...positions);
      for (const id of answer.judged.slice(start)) touched.add(id);
      if (start === answer.judged.length) for (const id of answer.judged) touched.add(id);
    }
    changed(touched);
  }

  function move(delta) {
    let index = ctx.focused;
    do index += delta; while (view.cards[index] && view.cards[index].dataset.judged === undefined);
    if (!view.cards[index]) return;
    ctx.focused = index;
    view.focus(index);
  }

  // --- the picker ---------------------------------------------------------------------------

  function openPicker(title, options, choose, { stay = false, filter = null } = {}) {
    ctx.picker = { options, choose, stay, title };
    view.showPicker(title, options, { filter });
  }

  function closePicker() {
    if (!ctx.picker) return false;
    ctx.picker = null;
    view.hidePicker();
    return true;
  }

  function pick(index) {
    const picker = ctx.picker;
    if (!picker || index >= picker.options.length) return;
    const next = picker.choose(index);
    if (next) openPicker(next.title, next.options, next.choose);
    else if (picker.stay) {
      picker.options = picker.refresh();
      view.pickerOptions(picker.options);
    } else closePicker();
  }

  function errorPicker() {
    const id = focusedId();
    if (!id) return;
    if (!answer.canTakeError(id)) {
      ctx.say(answer.mode === "first_error" ? "Mark this step as the first wrong one first (e)." : "Rate this step below the best first.");
      return;
    }
    const types = [...answer.errorTypes.keys()];
    const current = (answer.details.get(id) || {}).error;
    openPicker(`Error type of step #${ctx.focused + 1}`, types.map((name) => ({ label: `${name} (${answer.errorTypes.get(name)})`, pressed: name === current })), (i) => {
      answer.setError(id, types[i]);
      changed([id]);
    });
  }

  function verdictPicker() {
    openPicker("Verdict on the whole run", VERDICTS.map((v) => ({ label: v, pressed: answer.verdict === v })), (i) => {
      answer.setVerdict(VERDICTS[i]);
      changed([]);
    });
  }

  function scoreStep(from) {
    const criteria = answer.schema.criteria || [];
    const criterion = criteria[from];
    return {
      title: `Score: ${criterion.name} (${from + 1} of ${criteria.length})`,
      options: criterion.labels.map((words, i) => ({ label: words || String(i + 1), pressed: answer.scores[criterion.name] === i + 1 })),
      choose: (i) => {
        answer.setScore(criterion.name, i + 1);
        changed([]);
        return from + 1 < criteria.length ? scoreStep(from + 1) : null;
      },
    };
  }

  function scorePicker() {
    if (!(answer.schema.criteria || []).length) return;
    const first = scoreStep(0);
    openPicker(first.title, first.options, first.choose);
  }

  /** Failure modes: digits toggle the first nine; a project with more gets a search box
   * (typing narrows the list, digits and Enter toggle among the nine shown). */
  function modesPicker() {
    const all = answer.schema.failure_modes || [];
    if (!all.length) return;
    let shown = all.slice(0, 9);
    const refresh = () => shown.map((m) => ({ label: m, pressed: answer.failureModes.has(m) }));
    const choose = (i) => {
      answer.toggleFailureMode(shown[i]);
      changed([]);
    };
    const filter = all.length > 9 ? {
      onInput(text) {
        const words = text.trim().toLowerCase();
        shown = all.filter((m) => m.toLowerCase().includes(words)).slice(0, 9);
        ctx.picker.options = refresh();
        view.pickerOptions(ctx.picker.options);
      },
      onKey(event) {
        const digit = /^Digit[1-9]$|^Numpad[1-9]$/.test(event.code || "") ? Number(event.code.slice(-1)) : null;
        if (digit === null && event.key !== "Enter") return;
        event.preventDefault();
        event.stopPropagation();
        pick(digit === null ? 0 : digit - 1);
      },
    } : null;
    const title = filter ? `Failure modes: ${all.length} (type to find one, digits toggle)` : "Failure modes (digits toggle)";
    openPicker(title, refresh(), choose, { stay: true, filter });
    ctx.picker.refresh = refresh;
  }

  // --- the correction editor ------------------------------------------------------------------

  function openCorrection() {
    const id = focusedId();
    if (!id) return;
    if (!answer.schema.corrections) return;
    if (!answer.isWrong(id)) {
      ctx.say(answer.mode === "first_error" ? "Only a wrong step is corrected: mark the first error first (e)." : "Only a step rated below correct is corrected.");
      return;
    }
    closeCorrection();
    const step = answer.byId.get(id);
    const editor = correctionEditor({ step, existing: answer.corrections.get(id), tools: answer.tools });
    const card = view.cardById.get(id);
    card.querySelector("[data-judgement]").after(editor.box);
    ctx.correction = { id, editor };
    const update = () => {
      editor.sync();
      const draft = readCorrection();
      editor.error.textContent = draft.error || "";
      const after = draft.tool ? stepText({ type: "tool_call", tool: draft.tool }) : draft.content || "";
      editor.diff.replaceChildren(draft.error ? "" : diffNode(stepText(step), after));
    };
    for (const input of [editor.kind, editor.name, editor.args, editor.text]) input.addEventListener("input", update);
    editor.kind.addEventListener("change", update);
    update();
    const target = editor.kind.value === "tool" ? editor.args : editor.text;
    target.focus();
  }

  function readCorrection() {
    const { editor } = ctx.correction;
    if (editor.kind.value === "tool") return parseToolCorrection(editor.name.value.trim(), editor.args.value, answer.tools);
    const content = editor.text.value;
    if (!content.trim()) return { error: "Write the step as it should have been." };
    return { content };
  }

  function saveCorrection() {
    if (!ctx.correction) return false;
    const { id, editor } = ctx.correction;
    const draft = readCorrection();
    if (draft.error) {
      editor.error.textContent = draft.error;
      return true;
    }
    const original = answer.byId.get(id);
    const same = draft.tool
      ? original.type === "tool_call" && JSON.stringify(original.tool) === JSON.stringify(draft.tool)
      : draft.content === original.content;
    if (same) {
      editor.error.textContent = "The correction changes nothing yet.";
      return true;
    }
    answer.setCorrection(id, draft.tool ? { tool: draft.tool } : { content: draft.content });
    closeCorrection();
    changed([id]);
    return true;
  }

  function closeCorrection() {
    if (!ctx.correction) return false;
    ctx.correction.editor.box.remove();
    ctx.correction = null;
    root.focus?.();
    if (document.activeElement && root.contains(document.activeElement)) document.activeElement.blur();
    return true;
  }

  // --- a note on a step -------------------------------------------------------------------------

  function openNote() {
    const id = focusedId();
    if (!id) return;
    if (!answer.canTakeError(id)) {
      ctx.say("A note goes with a step judged below correct (the first error in first-error mode).");
      return;
    }
    closeNote();
    const text = el("textarea", { rows: "2", maxlength: "2000", "data-testid": "step-note", "aria-label": "Note on this step" });
    text.value = (answer.details.get(id) || {}).note || "";
    text.addEventListener("input", () => { answer.setNote(id, text.value); ctx.emit(); });
    const box = el("label", { className: "tj-note", "data-alt-enter": "" }, el("span", { className: "help" }, "Note on this step (Esc or Alt+Enter to leave)"), text);
    view.cardById.get(id).querySelector("[data-judgement]").after(box);
    ctx.note = { id, box };
    text.focus();
  }

  function closeNote() {
    if (!ctx.note) return false;
    const { id, box } = ctx.note;
    box.remove();
    ctx.note = null;
    if (document.activeElement && root.contains(document.activeElement)) document.activeElement.blur();
    view.step(id);
    return true;
  }

  // --- keys ------------------------------------------------------------------------------------

  add(["j", "]"], "Next agent step", () => { closePicker(); move(1); });
  add(["k", "["], "Previous agent step", () => { closePicker(); move(-1); });
  const digits = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
  add(digits, answer.mode === "per_step" ? "Rate the step (or choose in an open list)" : "Choose in an open list", (event) => {
    const n = Number(event.code?.startsWith("Digit") || event.code?.startsWith("Numpad") ? event.code.slice(-1) : event.key) - 1;
    if (ctx.picker) { pick(n); return true; }
    if (answer.mode !== "per_step") return false;
    const id = focusedId();
    if (!id || n >= answer.ratings.length) return false;
    const before = answer.firstError();
    answer.rate(id, answer.ratings[n]);
    changedFrom(before);
    if (n < answer.ratings.length - 1) move(1); // a wrong step stays: its error type, a correction
    return true;
  });
  add(["e"], answer.mode === "first_error" ? "Mark the first wrong step (again: unmark)" : "Rate the step wrong", () => {
    const id = focusedId();
    if (!id) return;
    closePicker();
    const before = answer.firstError();
    answer.markFirstError(id);
    changedFrom(before);
  });
  add(["n"], answer.mode === "first_error" ? "No wrong step in this run" : "Rate every step correct", () => {
    const before = answer.firstError();
    answer.noError();
    changedFrom(before);
    if (answer.mode === "per_step") changed(answer.judged);
  });
  add(["t"], "Error type of the step", () => { closePicker(); errorPicker(); });
  add(["o"], "A note on the step", () => { closePicker(); openNote(); });
  if (answer.schema.corrections) add(["c"], "Correct the step (prefilled, with a diff)", () => { closePicker(); openCorrection(); });
  add(["v"], "Verdict on the run", () => { closePicker(); verdictPicker(); });
  if ((answer.schema.criteria || []).length) add(["s"], "Score the run on the rubric", () => { closePicker(); scorePicker(); });
  if ((answer.schema.failure_modes || []).length) add(["f"], "Failure modes", () => { closePicker(); modesPicker(); });
  const critique = root.querySelector("[data-testid=critique]");
  if (critique) add(["w"], "Write the critique", () => { closePicker(); critique.focus(); });
  add(["alt+enter"], "Save the correction (or leave the note)", () => saveCorrection() || closeNote(), { inInputs: true });
  add(["escape"], "Close the list, the correction or the text box", (event) => {
    if (closePicker()) return true;
    if (ctx.correction) { closeCorrection(); return true; }
    if (closeNote()) return true;
    if (event.target instanceof HTMLElement && root.contains(event.target)) { event.target.blur(); return true; }
    return false;
  }, { inInputs: true });

  // --- clicks ----------------------------------------------------------------------------------

  function onClick(event) {
    const target = event.target.closest("button, .tj-step");
    if (!target || !root.contains(target)) return;
    const card = target.closest(".tj-step");
    if (card && card.dataset.judged !== undefined) {
      ctx.focused = Number(card.dataset.index);
      view.focus(ctx.focused, { scroll: false });
    }
    if (target.matches(".tj-cell")) {
      const index = Number(target.dataset.index);
      view.cards[index].scrollIntoView({ block: "center" });
      if (view.cards[index].dataset.judged !== undefined) { ctx.focused = index; view.focus(index, { scroll: false }); }
      return;
    }
    if (target.dataset.rate) {
      const before = answer.firstError();
      answer.rate(card.dataset.step, target.dataset.rate);
      changedFrom(before);
    } else if (target.dataset.firstError) {
      const before = answer.firstError();
      answer.markFirstError(card.dataset.step);
      changedFrom(before);
    } else if (target.dataset.verdict) {
      answer.setVerdict(target.dataset.verdict);
      changed([]);
    } else if (target.dataset.point) {
      answer.setScore(target.closest("[data-criterion]").dataset.criterion, Number(target.dataset.point));
      changed([]);
    } else if (target.dataset.mode) {
      answer.toggleFailureMode(target.dataset.mode);
      changed([]);
    } else if (target.dataset.pick) {
      pick(Number(target.dataset.pick));
    } else if (target.dataset.action === "expand") {
      ctx.expand(card, target);
    } else if (target.dataset.action === "save-correction") {
      saveCorrection();
    } else if (target.dataset.action === "remove-correction") {
      const id = ctx.correction && ctx.correction.id;
      closeCorrection();
      if (id) { answer.removeCorrection(id); changed([id]); }
    } else if (target.dataset.action === "close-correction") {
      closeCorrection();
    }
  }
  root.addEventListener("click", onClick);
  cleanups.push(() => root.removeEventListener("click", onClick));
  if (critique) {
    const onInput = () => { answer.critique = critique.value; ctx.emit(); };
    critique.addEventListener("input", onInput);
    cleanups.push(() => critique.removeEventListener("input", onInput));
  }
  return cleanups;
}

/**
 * The preference-ranking editor: `mount(root, config)` → { getResult, setResult, validate, onChange, destroy }.
 *
 * The template renders the prompt and the responses (Markdown, escaped on the server); this module
 * only handles the choice. Pairwise: A / B / tie by mouse or keys (A, B, T; ← → too) and a
 * strength (digits). Rank: press a response's number to put it next in the order, ↑ ↓ to select,
 * Shift+↑ ↓ to move, Backspace to unrank, or drag. Criteria are radio rows (C to start; in a row
 * the arrows change its answer, Tab goes to the next row); the rationale is a text box (R to
 * write, Esc to leave).
 */

import { Shortcuts } from "../js/lib/keyboard.js";

const GROUP = "Ranking";

export function mount(root, config) {
  const schema = config.schema || {};
  const responses = (config.data && config.data.responses) || [];
  const ids = responses.map((response) => response.id);
  const letterOf = (id) => String.fromCharCode(65 + ids.indexOf(id));
  const mode = schema.mode === "rank" ? "rank" : "pairwise";
  const scale = schema.strength_scale || 1;
  const criteria = schema.criteria || [];
  const rationaleRule = schema.rationale || "optional";
  const shortcuts = config.shortcuts || new Shortcuts();
  const listeners = new Set();
  const cleanups = [];

  const answer = { preference: null, strength: 1, order: [], criteria: {}, rationale: "" };
  let focused = 0; // index in answer.order

  const cards = new Map([...root.querySelectorAll(".response-card")].map((card) => [card.dataset.responseId, card]));
  const orderList = root.querySelector(".rank-order");
  const pool = root.querySelector(".rank-pool");
  const strengthRow = root.querySelector("[data-scale]");
  const rationale = root.querySelector(".rank-rationale");
  const rows = [...root.querySelectorAll("tr[data-criterion]")];

  if (strengthRow) {
    for (let step = 1; step <= scale; step += 1) {
      const button = document.createElement("button");
      button.type = "button";
      button.setAttribute("role", "radio");
      button.dataset.strength = String(step);
      button.append(`${step} `);
      const kbd = document.createElement("kbd");
      kbd.textContent = String(step);
      button.append(kbd);
      strengthRow.append(button);
    }
  }

  function getResult() {
    const result = mode === "pairwise"
      ? { preference: answer.preference, strength: answer.strength }
      : { order: [...answer.order] };
    result.criteria = { ...answer.criteria };
    if (rationaleRule !== "none") result.rationale = answer.rationale;
    return result;
  }

  function emit() {
    render();
    const result = getResult();
    for (const listener of listeners) listener(result);
  }

  function render() {
    for (const button of root.querySelectorAll("[data-preference]")) {
      button.setAttribute("aria-checked", String(button.dataset.preference === answer.preference));
    }
    for (const button of root.querySelectorAll("[data-strength]")) {
      button.setAttribute("aria-checked", String(Number(button.dataset.strength) === answer.strength));
    }
    for (const [id, card] of cards) {
      const rank = answer.order.indexOf(id);
      card.classList.toggle("chosen", mode === "pairwise" ? answer.preference === id : rank === 0);
      card.classList.toggle("tied", mode === "pairwise" && answer.preference === "tie");
      const badge = card.querySelector(".rank-badge");
      if (mode === "rank") badge.textContent = rank >= 0 ? `#${rank + 1}` : "unranked";
      else badge.textContent = answer.preference === id ? "preferred" : "";
    }
    if (orderList) {
      focused = Math.min(focused, Math.max(0, answer.order.length - 1));
      orderList.replaceChildren(...answer.order.map((id, i) => {
        const li = document.createElement("li");
        li.draggable = true;
        li.dataset.responseId = id;
        li.className = i === focused ? "focused" : "";
        li.textContent = `${i + 1}. Response ${letterOf(id)}`;
        return li;
      }));
      const unranked = ids.filter((id) => !answer.order.includes(id));
      pool.textContent = unranked.length
        ? `Not ranked yet: ${unranked.map((id) => `${letterOf(id)} (${ids.indexOf(id) + 1})`).join(", ")}`
        : "All responses ranked.";
    }
    rows.forEach((row) => {
      for (const input of row.querySelectorAll("input")) {
        input.checked = answer.criteria[row.dataset.criterion] === input.value;
      }
    });
    if (rationale && rationale.value !== answer.rationale) rationale.value = answer.rationale;
  }

  // --- the choices ----------------------------------------------------------------------------

  function prefer(choice) {
    answer.preference = choice;
    emit();
  }

  function strength(step) {
    if (step < 1 || step > scale) return false;
    answer.strength = step;
    emit();
    return true;
  }

  function rankNext(index) {
    const id = ids[index];
    if (id === undefined) return false;
    answer.order = answer.order.filter((other) => other !== id);
    answer.order.push(id);
    focused = answer.order.length - 1;
    emit();
    return true;
  }

  function move(step) {
    const target = focused + step;
    if (target < 0 || target >= answer.order.length) return;
    const order = [...answer.order];
    [order[focused], order[target]] = [order[target], order[focused]];
    answer.order = order;
    focused = target;
    emit();
  }

  function unrank() {
    if (!answer.order.length) return false;
    answer.order.splice(focused, 1);
    emit();
    return true;
  }

  // --- mouse ----------------------------------------------------------------------------------

  function onClick(event) {
    const preference = event.target.closest("[data-preference]");
    if (preference) return prefer(preference.dataset.preference);
    const step = event.target.closest("[data-strength]");
    if (step) return strength(Number(step.dataset.strength));
    const item = event.target.closest(".rank-order li");
    if (item) {
      focused = answer.order.indexOf(item.dataset.responseId);
      render();
    }
  }

  function onChange(event) {
    const row = event.target.closest("tr[data-criterion]");
    if (row && event.target.checked) {
      answer.criteria[row.dataset.criterion] = event.target.value;
      emit();
    }
  }

  function onInput(event) {
    if (event.target === rationale) {
      answer.rationale = rationale.value;
      emit();
    }
  }

  let dragged = null;
  function onDragStart(event) {
    const item = event.target.closest(".rank-order li");
    if (!item) return;
    dragged = item.dataset.responseId;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged);
  }
  function onDragOver(event) {
    const item = event.target.closest(".rank-order li");
    if (!item || dragged === null) return;
    event.preventDefault();
    for (const li of orderList.children) li.classList.toggle("drag-over", li === item);
  }
  function onDrop(event) {
    const item = event.target.closest(".rank-order li");
    if (!item || dragged === null) return;
    event.preventDefault();
    const order = answer.order.filter((id) => id !== dragged);
    order.splice(answer.order.indexOf(item.dataset.responseId), 0, dragged);
    answer.order = order;
    focused = order.indexOf(dragged);
    dragged = null;
    emit();
  }

  root.addEventListener("click", onClick);
  root.addEventListener("change", onChange);
  root.addEventListener("input", onInput);
  root.addEventListener("dragstart", onDragStart);
  root.addEventListener("dragover", onDragOver);
  root.addEventListener("drop", onDrop);
  cleanups.push(() => {
    root.removeEventListener("click", onClick);
    root.removeEventListener("change", onChange);
    root.removeEventListener("input", onInput);
    root.removeEventListener("dragstart", onDragStart);
    root.removeEventListener("dragover", onDragOver);
    root.removeEventListener("drop", onDrop);
  });

  // --- keys -----------------------------------------------------------------------------------

  const add = (keys, description, run, extra = {}) =>
    cleanups.push(shortcuts.add({ keys, description, group: GROUP, run, ...extra }));
  if (mode === "pairwise") {
    add(["a", "arrowleft"], "Response A is better", () => prefer(ids[0]));
    add(["b", "arrowright"], "Response B is better", () => prefer(ids[1]));
    add(["t", "arrowdown"], "Tie", () => prefer("tie"));
    for (let step = 1; step <= scale && scale > 1; step += 1) {
      add([String(step)], `Strength ${step} of ${scale}`, () => strength(step));
    }
  } else {
    ids.forEach((id, i) => add([String(i + 1)], `Rank response ${letterOf(id)} next`, () => rankNext(i)));
    add(["arrowup", "k"], "Select the response above", () => { focused = Math.max(0, focused - 1); render(); });
    add(["arrowdown", "j"], "Select the response below", () => { focused = Math.min(answer.order.length - 1, focused + 1); render(); });
    add(["shift+arrowup", "shift+k"], "Move the selected response up", () => move(-1));
    add(["shift+arrowdown", "shift+j"], "Move the selected response down", () => move(1));
    add(["backspace", "delete"], "Unrank the selected response", unrank);
    add(["x"], "Clear the order", () => { answer.order = []; emit(); });
  }
  if (rows.length) {
    add(["c"], "Answer the criteria: ← → or ↑ ↓ change this criterion's answer, Tab goes to the next", () => rows[0].querySelector("input").focus());
  }
  if (rationale) {
    add(["r"], "Write the rationale", () => rationale.focus());
    add(["escape"], "Leave the rationale box", () => {
      if (document.activeElement !== rationale) return false;
      rationale.blur();
    }, { inInputs: true });
  }

  function setResult(result) {
    const start = result || {};
    answer.preference = [...ids, "tie"].includes(start.preference) ? start.preference : null;
    answer.strength = Number.isInteger(start.strength) && start.strength >= 1 && start.strength <= scale ? start.strength : 1;
    answer.order = Array.isArray(start.order) ? start.order.filter((id) => ids.includes(id)) : [];
    answer.criteria = {};
    for (const criterion of criteria) {
      const value = start.criteria && start.criteria[criterion];
      if ([...ids, "tie"].includes(value)) answer.criteria[criterion] = value;
    }
    answer.rationale = typeof start.rationale === "string" ? start.rationale : "";
    focused = 0;
    emit();
  }

  function validate() {
    const messages = [];
    if (mode === "pairwise" && !answer.preference) messages.push("Choose the better response (A or B) or a tie.");
    if (mode === "rank" && answer.order.length < ids.length) {
      messages.push(`Rank every response: ${answer.order.length} of ${ids.length} ranked.`);
    }
    for (const criterion of criteria) {
      if (!answer.criteria[criterion]) messages.push(`Answer the criterion “${criterion}”.`);
    }
    if (rationaleRule === "required" && !answer.rationale.trim()) {
      messages.push("Write a rationale: this project asks for one.");
    }
    return messages;
  }

  setResult(config.initial_result);

  return {
    getResult,
    setResult,
    validate,
    onChange(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      listeners.clear();
    },
  };
}

/**
 * The units of the conversation editor: what the person judges one at a time (a judged assistant
 * turn, a candidate, the whole conversation, the writing area), in the order `[` `]` walk them.
 * Each gets its panel under what the template rendered: the rubric's rows of points, the list of
 * marked spans, the rewrite box.
 *
 * A unit is `{ kind, el, position, … }`: a turn has its `index`, a candidate its `id`, both their
 * `content` (the source text) and `contentEl` (the rendered Markdown); `rows` are its criteria.
 */

import { el } from "./dom.js";

/** The part of the answer a unit holds (its scores, spans, rewrite); `null` for the writing. */
export function unitPart(answer, unit) {
  if (unit.kind === "turn") return answer.turns.get(unit.index);
  if (unit.kind === "candidate") return answer.candidates.get(unit.id);
  if (unit.kind === "conversation") return answer;
  return null;
}

/** The unit a DOM node belongs to, or `null`. */
export function unitOfNode(editor, node) {
  const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
  const holder = element && element.closest(".conv-unit");
  return holder ? editor.units[Number(holder.dataset.unit)] : null;
}

function criteriaRows(unit, list) {
  const box = el("div", { className: "rubric", role: "group", "aria-label": "Scores" });
  unit.rows = list.map((criterion) => {
    const points = el("div", { className: "points", role: "radiogroup", "aria-label": criterion.name });
    for (let p = 1; p <= criterion.scale; p += 1) {
      const words = (criterion.labels || [])[p - 1] || "";
      points.append(el("button", {
        type: "button",
        role: "radio",
        "aria-checked": "false",
        title: words ? `${p} — ${words}` : String(p),
        dataset: { point: String(p) },
      }, String(p)));
    }
    const row = el("div", { className: "rubric-criterion", dataset: { criterion: criterion.name }, "data-testid": "criterion" },
      el("span", { className: "criterion-name" }, criterion.name), points, el("span", { className: "point-words" }));
    box.append(row);
    return { criterion, row, points };
  });
  return box;
}

function spanBox(unit) {
  const list = el("ul", { className: "span-list", "data-testid": "span-list", "aria-label": "Marked spans" });
  unit.spanList = list;
  return list;
}

function addUnit(editor, unit, at = editor.units.length) {
  const { units } = editor;
  units.splice(at, 0, unit);
  unit.el.classList.add("conv-unit");
  units.forEach((u, i) => {
    u.position = i;
    u.el.dataset.unit = String(i);
  });
}

/** A judged assistant turn (`li`, the rendered message) as a unit, at `at` in the walk. */
export function addTurnUnit(editor, index, li, at = editor.units.length) {
  const { messages, perTurn, applies, spansAllowed } = editor.settings;
  const unit = { kind: "turn", index, el: li, content: messages[index].content, contentEl: li.querySelector("[data-content]") };
  li.dataset.judged = "true";
  const panel = el("div", { className: "turn-panel", "data-testid": "turn-panel" });
  if (applies.rate && perTurn.length) panel.append(criteriaRows(unit, perTurn));
  if (spansAllowed) panel.append(spanBox(unit));
  if (applies.rewrite) {
    unit.rewriteButton = el("button", { type: "button", dataset: { action: "rewrite" } }, "Rewrite ", el("kbd", {}, "W"));
    unit.rewriteBox = el("div", { className: "rewrite", hidden: true, "data-testid": "rewrite" },
      el("label", { className: "rewrite-label" }, "The turn as it should have been (", el("kbd", {}, "Esc"), " to leave)"),
      el("textarea", { className: "rewrite-text", rows: "6", "data-testid": "rewrite-text", "aria-label": `Rewrite of turn ${index}` }),
      el("div", { className: "rewrite-diff", "data-testid": "rewrite-diff", "aria-label": "Changes against the original" }),
      el("button", { type: "button", className: "link danger", dataset: { action: "drop-rewrite" } }, "Drop the rewrite"));
    panel.append(unit.rewriteButton, unit.rewriteBox);
  }
  li.append(panel);
  addUnit(editor, unit, at);
  return unit;
}

/** Every unit the settings ask for, in order: the judged turns, the candidates, the whole
 * conversation, the writing area. */
export function buildUnits(editor) {
  const { candidatesData, perTurn, perConversation, writeStyle, judged, applies, spansAllowed } = editor.settings;
  const { turnItems, candidateCards, levelSection, writeSection } = editor;
  for (const index of judged) {
    const li = turnItems.get(index);
    if (li) addTurnUnit(editor, index, li);
  }
  if (applies.compare) {
    for (const candidate of candidatesData) {
      const card = candidateCards.get(candidate.id);
      if (!card) continue;
      const unit = { kind: "candidate", id: candidate.id, el: card, content: candidate.content, contentEl: card.querySelector("[data-content]") };
      const panel = el("div", { className: "turn-panel" });
      if (perTurn.length) panel.append(criteriaRows(unit, perTurn));
      if (spansAllowed) panel.append(spanBox(unit));
      panel.append(el("button", { type: "button", dataset: { action: "rank" } }, "Rank next ", el("kbd", {}, "O")));
      card.append(panel);
      addUnit(editor, unit);
    }
  }
  if (applies.rate && perConversation.length && levelSection) {
    levelSection.hidden = false;
    const unit = { kind: "conversation", el: levelSection };
    levelSection.append(criteriaRows(unit, perConversation));
    addUnit(editor, unit);
  }
  if (applies.write && writeSection) {
    writeSection.hidden = false;
    writeSection.querySelector(".write-actions").hidden = writeStyle !== "conversation";
    addUnit(editor, { kind: "write", el: writeSection });
  }
}

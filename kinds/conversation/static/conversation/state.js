/**
 * The conversation editor's answer and settings, without the DOM: what the schema and the task
 * allow (`editorSettings`), the answer being built (`emptyAnswer`), the result in the public shape
 * (`resultOf`), a result loaded back with whatever does not fit the task left out (`loadResult`),
 * and what is still missing before a submit (`problemsOf`).
 */

import { codePointLength } from "./text.js";

export const SEVERITIES = ["minor", "major", "critical"];

export function judgedTurns(messages) {
  const assistant = messages.flatMap((m, i) => (m.role === "assistant" ? [i] : []));
  const marked = assistant.filter((i) => messages[i].judge === true);
  return marked.length ? marked : assistant;
}

/** What the schema and the task's data allow. `messages` and `judged` grow in live mode. */
export function editorSettings(schema, data) {
  const messages = data.messages || [];
  const candidatesData = data.candidates || [];
  // A task may name the modes that apply to it (data.modes), the project's being the default.
  const modes = (Array.isArray(data.modes) && data.modes.length ? data.modes : schema.modes) || [];
  const criteria = schema.criteria || [];
  const errorTypes = schema.error_types || [];
  const writeStyle = schema.write || "reply";
  const judged = judgedTurns(messages);
  const live = data.live === true; // a seed: the turns come from the project's model, here
  const nextRole = messages.length && messages[messages.length - 1].role === "user" ? "assistant" : "user";
  const applies = {
    rate: modes.includes("rate") && (judged.length > 0 || live),
    rewrite: modes.includes("rewrite") && (judged.length > 0 || live),
    compare: modes.includes("compare") && candidatesData.length > 0,
    write: modes.includes("write") && (writeStyle === "conversation" || nextRole === "assistant"),
  };
  return {
    messages,
    candidatesData,
    perTurn: criteria.filter((c) => (c.per || "turn") === "turn"),
    perConversation: criteria.filter((c) => c.per === "conversation"),
    errorTypes,
    rationaleRule: schema.rationale || "optional",
    writeStyle,
    judged,
    live,
    nextRole,
    applies,
    spansAllowed: errorTypes.length > 0 && (applies.rate || applies.rewrite || applies.compare),
    severityOf: Object.fromEntries(errorTypes.map((t) => [t.name, t.severity || "major"])),
  };
}

export function emptyAnswer(s) {
  return {
    turns: new Map(s.judged.map((index) => [index, { scores: {}, spans: [], rewrite: null }])),
    candidates: new Map(s.candidatesData.map((c) => [c.id, { scores: {}, spans: [] }])),
    scores: {},
    order: [],
    written: [],
    rationale: "",
  };
}

export function freshWritten(s) {
  if (!s.applies.write) return [];
  if (s.writeStyle === "reply") return [{ role: "assistant", content: "" }];
  return s.nextRole === "assistant"
    ? [{ role: "assistant", content: "" }]
    : [{ role: "user", content: "" }, { role: "assistant", content: "" }];
}

/** The answer in the public result shape (docs/api.md). */
export function resultOf(answer, s) {
  const result = { turns: [] };
  for (const index of s.judged) {
    const turn = answer.turns.get(index);
    const entry = { index, scores: { ...turn.scores }, spans: turn.spans.map((span) => ({ ...span })) };
    if (turn.rewrite !== null) entry.rewrite = turn.rewrite;
    if (Object.keys(entry.scores).length || entry.spans.length || turn.rewrite !== null) result.turns.push(entry);
  }
  if (s.applies.rate && s.perConversation.length) result.scores = { ...answer.scores };
  if (s.applies.compare) {
    result.order = [...answer.order];
    result.candidates = s.candidatesData.map((c) => {
      const part = answer.candidates.get(c.id);
      return { id: c.id, scores: { ...part.scores }, spans: part.spans.map((span) => ({ ...span })) };
    });
  }
  if (s.applies.write) result.written = answer.written.map((m) => ({ role: m.role, content: m.content }));
  if (s.rationaleRule !== "none") result.rationale = answer.rationale;
  return result;
}

function cleanScores(scores, list) {
  const out = {};
  for (const criterion of list) {
    const value = scores && scores[criterion.name];
    if (Number.isInteger(value) && value >= 1 && value <= criterion.scale) out[criterion.name] = value;
  }
  return out;
}

function cleanSpans(spans, content, s) {
  if (!s.spansAllowed || !Array.isArray(spans)) return [];
  const length = codePointLength(content);
  return spans
    .filter((span) => span && Number.isInteger(span.start) && Number.isInteger(span.end) && span.start >= 0 && span.end <= length && span.start < span.end && s.severityOf[span.type])
    .map((span) => ({ start: span.start, end: span.end, type: span.type, ...(span.note ? { note: span.note } : {}) }));
}

/** Load `result` (a draft, a prediction, a reviewer's fix) into `answer`, keeping what fits. */
export function loadResult(answer, result, s) {
  const start = result || {};
  for (const [index, turn] of answer.turns) {
    const given = (start.turns || []).find((t) => t && t.index === index) || {};
    turn.scores = cleanScores(given.scores, s.perTurn);
    turn.spans = cleanSpans(given.spans, s.messages[index].content, s);
    turn.rewrite = s.applies.rewrite && typeof given.rewrite === "string" && given.rewrite ? given.rewrite : null;
  }
  for (const [id, part] of answer.candidates) {
    const given = (start.candidates || []).find((c) => c && c.id === id) || {};
    part.scores = cleanScores(given.scores, s.perTurn);
    part.spans = cleanSpans(given.spans, s.candidatesData.find((c) => c.id === id).content, s);
  }
  answer.scores = cleanScores(start.scores, s.perConversation);
  const ids = s.candidatesData.map((c) => c.id);
  answer.order = Array.isArray(start.order) ? start.order.filter((id, i, all) => ids.includes(id) && all.indexOf(id) === i) : [];
  const written = Array.isArray(start.written) ? start.written.filter((m) => m && typeof m.content === "string") : [];
  const fresh = freshWritten(s);
  answer.written = fresh;
  if (fresh.length && written.length >= fresh.length && (s.writeStyle === "conversation" || written.length === 1)) {
    // Roles alternate from the one that speaks next, whatever the start said.
    const roles = [fresh[0].role, fresh[0].role === "user" ? "assistant" : "user"];
    answer.written = written.map((m, i) => ({ role: roles[i % 2], content: m.content }));
  }
  answer.rationale = typeof start.rationale === "string" ? start.rationale : "";
}

/** What is still missing or wrong before the answer can be submitted, in words. */
export function problemsOf(answer, s) {
  const problems = [];
  const { judged, messages, applies, perTurn, perConversation, candidatesData } = s;
  if (s.live && !judged.length) problems.push("Talk to the model first: write a message and send it (Alt+Enter).");
  const missing = (part, list) => list.filter((c) => part.scores[c.name] === undefined).map((c) => c.name);
  if (applies.rate) {
    for (const index of judged) {
      const names = missing(answer.turns.get(index), perTurn);
      if (names.length) problems.push(`Score turn ${index}: ${names.join(", ")}.`);
      if (problems.length >= 5) break;
    }
    const names = missing(answer, perConversation);
    if (names.length) problems.push(`Score the whole conversation: ${names.join(", ")}.`);
  }
  for (const index of judged) {
    const turn = answer.turns.get(index);
    if (turn.rewrite !== null && !turn.rewrite.trim()) problems.push(`The rewrite of turn ${index} is empty.`);
    if (turn.rewrite !== null && turn.rewrite === messages[index].content) problems.push(`The rewrite of turn ${index} changes nothing yet.`);
  }
  if (applies.rewrite && !applies.rate && !applies.compare && !applies.write
    && ![...answer.turns.values()].some((t) => t.rewrite !== null && t.rewrite.trim())) {
    problems.push("Rewrite at least one assistant turn (W).");
  }
  if (applies.compare) {
    if (answer.order.length < candidatesData.length) problems.push(`Rank every candidate: ${answer.order.length} of ${candidatesData.length} ranked.`);
    for (const c of candidatesData) {
      const names = missing(answer.candidates.get(c.id), perTurn);
      if (names.length) problems.push(`Score candidate ${c.id}: ${names.join(", ")}.`);
    }
  }
  if (applies.write) {
    answer.written.forEach((m, i) => { if (!m.content.trim()) problems.push(`Write the ${m.role}'s turn (${i + 1}).`); });
  }
  if (s.rationaleRule === "required" && !answer.rationale.trim()) problems.push("Write a rationale: this project asks for one.");
  return problems;
}

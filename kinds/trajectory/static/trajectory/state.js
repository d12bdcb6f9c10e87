/**
 * The answer to an agent run, without the DOM: ratings, the first error, error types,
 * corrections, the verdict, rubric scores, failure modes and the critique. It follows the same
 * rules as the server (kinds/trajectory/kind.py), so the screen never builds an answer the
 * server refuses: in `per_step` mode the first error is the earliest step rated with the worst
 * word; in `first_error` mode it is marked, and every step from it on counts as wrong.
 */

export const VERDICTS = ["success", "partial", "failure"];

export class RunAnswer {
  constructor(schema, data) {
    this.schema = schema;
    this.mode = schema.judging === "first_error" ? "first_error" : "per_step";
    this.ratings = schema.ratings && schema.ratings.length ? schema.ratings : ["correct", "partly correct", "wrong"];
    this.correct = schema.correct_ratings || 1;
    this.worst = this.ratings[this.ratings.length - 1];
    this.steps = data.steps || [];
    this.byId = new Map(this.steps.map((step) => [step.id, step]));
    this.judged = this.steps.filter((step) => step.source === "agent").map((step) => step.id);
    this.position = new Map(this.judged.map((id, i) => [id, i]));
    this.errorTypes = new Map((schema.error_types || []).map((t) => [t.name, t.severity || "major"]));
    this.tools = new Map((data.tools || []).map((tool) => [tool.name, tool]));
    this.clear();
  }

  clear() {
    this.rated = new Map(); // step id → rating word (per_step)
    this.marked = null; // the first error (first_error mode)
    this.details = new Map(); // step id → {error, severity, note}
    this.corrections = new Map(); // step id → {content} | {tool: {name, arguments}}
    this.verdict = null;
    this.scores = {};
    this.failureModes = new Set();
    this.critique = "";
  }

  // --- reading ----------------------------------------------------------------------------

  firstError() {
    if (this.mode === "first_error") return this.marked;
    return this.judged.find((id) => this.rated.get(id) === this.worst) || null;
  }

  ratingOf(id) {
    if (this.mode === "per_step") return this.rated.get(id) || null;
    const first = this.marked === null ? this.judged.length : this.position.get(this.marked);
    return this.position.get(id) < first ? this.ratings[0] : this.worst;
  }

  isWrong(id) {
    const rating = this.ratingOf(id);
    return rating !== null && this.ratings.indexOf(rating) >= this.correct;
  }

  canTakeError(id) {
    if (this.mode === "first_error") return id === this.marked;
    const rating = this.ratingOf(id);
    return rating !== null && rating !== this.ratings[0];
  }

  unrated() {
    return this.mode === "per_step" ? this.judged.filter((id) => !this.rated.has(id)) : [];
  }

  // --- changing -----------------------------------------------------------------------------

  rate(id, rating) {
    if (!this.position.has(id) || !this.ratings.includes(rating)) return false;
    if (this.mode === "first_error") return false;
    this.rated.set(id, rating);
    this.tidy();
    return true;
  }

  /** first_error mode: mark (or unmark) the first wrong step; per_step: rate it the worst. */
  markFirstError(id) {
    if (!this.position.has(id)) return false;
    if (this.mode === "per_step") return this.rate(id, this.worst);
    this.marked = this.marked === id ? null : id;
    this.tidy();
    return true;
  }

  noError() {
    if (this.mode === "first_error") this.marked = null;
    else for (const id of this.judged) this.rated.set(id, this.ratings[0]);
    this.tidy();
  }

  setError(id, name) {
    if (!this.canTakeError(id) || (name !== null && !this.errorTypes.has(name))) return false;
    const detail = { ...(this.details.get(id) || {}) };
    if (name === null || detail.error === name) {
      delete detail.error;
      delete detail.severity;
    } else {
      detail.error = name;
      detail.severity = this.errorTypes.get(name);
    }
    this.details.set(id, detail);
    return true;
  }

  setNote(id, note) {
    const detail = { ...(this.details.get(id) || {}), note };
    this.details.set(id, detail);
  }

  setCorrection(id, correction) {
    if (!this.isWrong(id)) return false;
    this.corrections.set(id, correction);
    return true;
  }

  removeCorrection(id) {
    this.corrections.delete(id);
  }

  setVerdict(verdict) {
    if (VERDICTS.includes(verdict)) this.verdict = verdict;
  }

  setScore(name, point) {
    this.scores[name] = point;
  }

  toggleFailureMode(mode) {
    if (this.failureModes.has(mode)) this.failureModes.delete(mode);
    else this.failureModes.add(mode);
  }

  /** Drop what no longer fits: details and corrections on steps that are not wrong now. */
  tidy() {
    for (const id of [...this.details.keys()]) if (!this.canTakeError(id)) this.details.delete(id);
    for (const id of [...this.corrections.keys()]) if (!this.isWrong(id)) this.corrections.delete(id);
  }

  // --- the answer's JSON ------------------------------------------------------------------

  toResult() {
    const steps = {};
    for (const id of this.judged) {
      const rating = this.mode === "per_step" ? this.rated.get(id) : (id === this.marked ? this.worst : null);
      if (!rating) continue;
      const entry = { rating };
      const detail = this.details.get(id) || {};
      if (detail.error) {
        entry.error = detail.error;
        entry.severity = detail.severity;
      }
      if (detail.note && detail.note.trim()) entry.note = detail.note;
      steps[id] = entry;
    }
    const result = { steps, first_error: this.firstError(), verdict: this.verdict };
    result.corrections = this.judged.filter((id) => this.corrections.has(id)).map((id) => ({ step: id, ...this.corrections.get(id) }));
    if ((this.schema.criteria || []).length) result.scores = { ...this.scores };
    if ((this.schema.failure_modes || []).length) result.failure_modes = (this.schema.failure_modes || []).filter((m) => this.failureModes.has(m));
    if ((this.schema.critique || "optional") !== "none") result.critique = this.critique;
    return result;
  }

  load(result) {
    this.clear();
    if (!result || typeof result !== "object") return;
    const steps = result.steps || {};
    if (this.mode === "per_step") {
      for (const id of this.judged) if (steps[id] && this.ratings.includes(steps[id].rating)) this.rated.set(id, steps[id].rating);
    } else if (this.position.has(result.first_error)) {
      this.marked = result.first_error;
    }
    for (const [id, entry] of Object.entries(steps)) {
      if (entry && (entry.error || entry.note)) this.details.set(id, { error: entry.error, severity: entry.severity, note: entry.note });
    }
    for (const correction of result.corrections || []) {
      const { step, ...rest } = correction;
      if (this.position.has(step)) this.corrections.set(step, rest);
    }
    if (VERDICTS.includes(result.verdict)) this.verdict = result.verdict;
    this.scores = { ...(result.scores || {}) };
    this.failureModes = new Set(result.failure_modes || []);
    this.critique = typeof result.critique === "string" ? result.critique : "";
    this.tidy();
  }

  problems() {
    const problems = [];
    const unrated = this.unrated();
    if (unrated.length) problems.push(`Rate every agent step: ${unrated.length} of ${this.judged.length} not rated yet.`);
    if (!this.verdict) problems.push("Give the run a verdict (v).");
    for (const criterion of this.schema.criteria || []) {
      if (!this.scores[criterion.name]) problems.push(`Score the run's ${criterion.name} (s).`);
    }
    if (this.schema.critique === "required" && !this.critique.trim()) problems.push("Write a critique (w): this project asks for one.");
    return problems;
  }
}

// --- corrections ------------------------------------------------------------------------------

export function argumentsText(args) {
  return typeof args === "string" ? args : JSON.stringify(args ?? {}, null, 2);
}

/** A step in words, as the server writes it (kinds/trajectory/model.py step_text). */
export function stepText(step) {
  if (step.type === "tool_call" && step.tool) {
    const args = typeof step.tool.arguments === "string" ? step.tool.arguments : JSON.stringify(step.tool.arguments ?? {});
    return `${step.tool.name}(${args})`;
  }
  return step.content || "";
}

/**
 * A tool-call correction from what was typed: `{tool}` or `{error}` in words. Arguments are a
 * JSON object; the tool must be one of the run's when it lists tools; required parameters must
 * be given, and no unknown one when the schema forbids them (the server checks the full schema).
 */
export function parseToolCorrection(name, text, tools) {
  if (!name || !name.trim()) return { error: "Name the tool." };
  if (tools.size && !tools.has(name)) return { error: `The run's tools are: ${[...tools.keys()].join(", ")}.` };
  let args;
  try {
    args = JSON.parse(text || "{}");
  } catch (error) {
    return { error: `The arguments are not valid JSON: ${error.message}` };
  }
  if (!args || typeof args !== "object" || Array.isArray(args)) return { error: "The arguments are a JSON object." };
  const parameters = (tools.get(name) || {}).parameters;
  if (parameters && typeof parameters === "object") {
    for (const key of parameters.required || []) {
      if (!(key in args)) return { error: `Missing the required argument "${key}".` };
    }
    if (parameters.additionalProperties === false && parameters.properties) {
      const unknown = Object.keys(args).filter((key) => !(key in parameters.properties));
      if (unknown.length) return { error: `Unknown argument "${unknown[0]}".` };
    }
  }
  return { tool: { name, arguments: args } };
}

/** Word diff of two texts: [[op, text]…] with op "same", "del" or "ins" (LCS on words). */
export function wordDiff(before, after) {
  const a = (before || "").split(/\s+/).filter(Boolean);
  const b = (after || "").split(/\s+/).filter(Boolean);
  if (a.length * b.length > 4_000_000) return [["del", a.join(" ")], ["ins", b.join(" ")]];
  const rows = a.length + 1;
  const cols = b.length + 1;
  const table = new Uint32Array(rows * cols);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      table[i * cols + j] = a[i] === b[j] ? table[(i + 1) * cols + j + 1] + 1 : Math.max(table[(i + 1) * cols + j], table[i * cols + j + 1]);
    }
  }
  const parts = [];
  const push = (op, word) => {
    const last = parts[parts.length - 1];
    if (last && last[0] === op) last[1] += ` ${word}`;
    else parts.push([op, word]);
  };
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { push("same", a[i]); i += 1; j += 1; }
    else if (table[(i + 1) * cols + j] >= table[i * cols + j + 1]) { push("del", a[i]); i += 1; }
    else { push("ins", b[j]); j += 1; }
  }
  while (i < a.length) { push("del", a[i]); i += 1; }
  while (j < b.length) { push("ins", b[j]); j += 1; }
  return parts;
}

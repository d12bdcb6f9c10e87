/**
 * Text helpers of the conversation editor, free of editor state (tested in the browser alone).
 *
 * - `alignRendered(root, source)`: each character of the rendered Markdown in `root` mapped to its
 *   offset in the source text (or -1), so a selection on the page becomes offsets in the turn's
 *   content (span offsets are characters of the source, as the server counts them).
 * - `selectionOffsets(range, alignment)` and `rangesFor(alignment, start, end)`: both directions.
 * - `wordDiff(before, after)`: the rewrite against the original, word by word.
 */

const LOOKAHEAD = 2000; // how far the source may run ahead of the page (a link's URL, a fence)
const SPACE = /\s/;

/**
 * Greedy alignment: the rendered text is the source without its Markdown syntax, in order, so
 * each rendered character is the next equal character of the source. Whitespace matches any
 * whitespace nearby (the renderer adds and folds newlines); a character not found is -1.
 * JavaScript strings count UTF-16 units, Python counts code points: offsets are converted.
 */
export function alignRendered(root, source) {
  const units = [...source]; // code points, as the server counts them
  const nodes = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let position = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data;
    const map = new Int32Array(text.length).fill(-1);
    for (let i = 0; i < text.length; i += 1) {
      const code = text.codePointAt(i);
      const ch = String.fromCodePoint(code);
      const wide = ch.length === 2;
      const limit = Math.min(units.length, position + (SPACE.test(ch) ? 3 : LOOKAHEAD));
      let found = -1;
      for (let j = position; j < limit; j += 1) {
        if (units[j] === ch || (SPACE.test(ch) && SPACE.test(units[j]))) {
          found = j;
          break;
        }
      }
      if (found >= 0) {
        map[i] = found;
        if (wide) map[i + 1] = found;
        position = found + 1;
      }
      if (wide) i += 1;
    }
    nodes.push({ node, map });
  }
  return { nodes, length: units.length };
}

/** Source offsets [start, end) of a DOM range inside the aligned root, or null. */
export function selectionOffsets(range, alignment) {
  let start = null;
  let end = null;
  for (const { node, map } of alignment.nodes) {
    if (!range.intersectsNode(node)) continue;
    const from = node === range.startContainer ? range.startOffset : 0;
    const to = node === range.endContainer ? range.endOffset : node.data.length;
    for (let i = from; i < to; i += 1) {
      if (map[i] < 0) continue;
      if (start === null || map[i] < start) start = map[i];
      if (end === null || map[i] + 1 > end) end = map[i] + 1;
    }
  }
  if (start === null || end <= start) return null;
  return { start, end };
}

/** DOM ranges covering the source offsets [start, end), one per run of text in a node. */
export function rangesFor(alignment, start, end) {
  const ranges = [];
  for (const { node, map } of alignment.nodes) {
    let runStart = -1;
    for (let i = 0; i <= map.length; i += 1) {
      const inside = i < map.length && map[i] >= start && map[i] < end;
      if (inside && runStart < 0) runStart = i;
      if (!inside && runStart >= 0) {
        const range = new Range();
        range.setStart(node, runStart);
        range.setEnd(node, i);
        ranges.push(range);
        runStart = -1;
      }
    }
  }
  return ranges;
}

/** The source text of offsets [start, end) (code points). */
export function sliceCodePoints(text, start, end) {
  return [...text].slice(start, end).join("");
}

export function codePointLength(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

function tokens(text) {
  return text.match(/\s+|[^\s]+/g) || [];
}

/**
 * [[op, text]…] with op "same", "del" or "ins": a longest-common-subsequence diff of words (and
 * the whitespace between them), after the common start and end are set aside. A middle too big
 * for the table (a rewrite from scratch of a very long turn) shows as one deletion and one
 * insertion.
 */
export function wordDiff(before, after) {
  const a = tokens(before);
  const b = tokens(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const parts = [];
  const push = (op, text) => {
    if (!text) return;
    const last = parts[parts.length - 1];
    if (last && last[0] === op) last[1] += text;
    else parts.push([op, text]);
  };
  push("same", a.slice(0, head).join(""));
  const n = midA.length;
  const m = midB.length;
  if (n * m > 4_000_000) {
    push("del", midA.join(""));
    push("ins", midB.join(""));
  } else if (n && m) {
    const table = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i -= 1) {
      for (let j = m - 1; j >= 0; j -= 1) {
        table[i * (m + 1) + j] = midA[i] === midB[j]
          ? table[(i + 1) * (m + 1) + j + 1] + 1
          : Math.max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (midA[i] === midB[j]) {
        push("same", midA[i]);
        i += 1;
        j += 1;
      } else if (table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1]) {
        push("del", midA[i]);
        i += 1;
      } else {
        push("ins", midB[j]);
        j += 1;
      }
    }
    push("del", midA.slice(i).join(""));
    push("ins", midB.slice(j).join(""));
  } else {
    push("del", midA.join(""));
    push("ins", midB.join(""));
  }
  push("same", a.slice(a.length - tail).join(""));
  return parts;
}

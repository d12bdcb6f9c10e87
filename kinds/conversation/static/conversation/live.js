/**
 * Live mode: the contributor's message goes to the project's model and its reply streams in
 * (server-sent events from LabelHub's live-turn route). `mountLive` draws the two turns as they
 * come and, once the server has stored them, hands the stored turn to `onStored`; a failure
 * removes them and says why.
 */

import { el } from "./dom.js";

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  } catch {
    return "";
  }
}

async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut = buffer.indexOf("\n\n");
    while (cut >= 0) {
      for (const line of buffer.slice(0, cut).split("\n")) {
        if (line.startsWith("data:")) onEvent(JSON.parse(line.slice(5)));
      }
      buffer = buffer.slice(cut + 2);
      cut = buffer.indexOf("\n\n");
    }
  }
}

/**
 * `liveBox` holds the message box (`.live-input`), its status line and the model's name and URL
 * in its dataset; `chat` is the list the turns go in. `onStored(finished, userTurn, reply)` gets
 * the server's `done` event once both turns are stored. Returns { send, focus, owns, destroy }.
 */
export function mountLive({ liveBox, chat, onStored }) {
  const input = liveBox.querySelector(".live-input");
  const status = liveBox.querySelector(".live-status");
  let sending = null; // the AbortController of the turn on its way

  function chatTurn(role, text, model) {
    const li = el("li", { className: `chat-turn role-${role} streaming`, "data-testid": "chat-turn" },
      el("header", { className: "turn-head" }, el("span", { className: "turn-role" }, role),
        model ? el("span", { className: "badge turn-model" }, model) : "",
        el("span", { className: "turn-number" }, "")),
      el("div", { className: "turn-content markdown", dataset: { content: "" } }, text));
    chat.querySelector(".chat-empty")?.remove();
    chat.append(li);
    return li;
  }

  function settle(li, index, html) {
    li.classList.remove("streaming");
    li.dataset.index = String(index);
    li.querySelector(".turn-number").textContent = `turn ${index}`;
    // HTML rendered and cleaned by the server (labelhub.markdown), never the model's raw text.
    li.querySelector("[data-content]").innerHTML = html;
  }

  function showStatus(text, failed = false) {
    status.textContent = text;
    status.classList.toggle("failed", failed);
    status.setAttribute("role", failed ? "alert" : "status");
  }

  async function send() {
    const text = input.value;
    if (sending || !text.trim()) return;
    sending = new AbortController();
    input.value = "";
    input.blur(); // the keys go back to the rubric, for the reply on its way
    const userTurn = chatTurn("user", text);
    const reply = chatTurn("assistant", "", liveBox.dataset.model);
    const replyText = reply.querySelector("[data-content]");
    reply.scrollIntoView({ block: "nearest" });
    showStatus(`Waiting for ${liveBox.dataset.model}…`);
    let finished = null;
    try {
      const response = await fetch(liveBox.dataset.liveUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ content: text }),
        signal: sending.signal,
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error(body.detail || `The server answered HTTP ${response.status}.`);
      }
      await readEvents(response, (event) => {
        if (event.error) throw new Error(event.error);
        if (event.delta) {
          replyText.textContent += event.delta;
          showStatus(`${liveBox.dataset.model} is answering…`);
        }
        if (event.done) finished = event;
      });
      if (!finished) throw new Error("The reply stopped before it was complete; nothing was kept.");
    } catch (error) {
      userTurn.remove();
      reply.remove();
      if (!input.value) input.value = text;
      if (error.name !== "AbortError") showStatus(error.message, true);
      return;
    } finally {
      sending = null;
    }
    settle(userTurn, finished.index - 1, finished.html.user);
    settle(reply, finished.index, finished.html.assistant);
    showStatus(`Reply stored as turn ${finished.index}. Rate it, rewrite it, or write your next message.`);
    onStored(finished, reply);
  }

  const onClick = (event) => {
    if (event.target.closest("[data-action=live-send]")) send();
  };
  liveBox.addEventListener("click", onClick);
  return {
    send,
    focus: () => input.focus(),
    owns: (node) => node === input,
    destroy() {
      liveBox.removeEventListener("click", onClick);
      if (sending) sending.abort();
    },
  };
}

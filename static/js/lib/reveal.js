// Sensitive content, on the work and review screens: the editor's images stay blurred (its text
// hidden) until the person clicks Reveal / Show, and can be blurred again.
document.addEventListener("click", (event) => {
  const reveal = event.target.closest("[data-action=reveal-content]");
  if (!reveal) return;
  const root = document.querySelector("[data-editor-root][data-sensitive]");
  if (!root) return;
  const shown = root.classList.toggle("revealed");
  reveal.setAttribute("aria-pressed", String(shown));
  reveal.textContent = shown ? reveal.dataset.hideLabel : reveal.dataset.revealLabel;
});

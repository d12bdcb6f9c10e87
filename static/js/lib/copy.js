// Copy and dismiss buttons for one-time secrets shown on a page (an invitation link, an API
// token): `[data-copy="id"]` copies the text of the element with that id, says "Copied" for a
// moment, and selects the text when the clipboard is refused; `[data-dismiss]` removes its
// closest `[data-dismissable]` block. A page answering a POST with such a secret names its own
// address in `data-replace-url`: the address bar shows it, so a reload reads the page again
// instead of sending the form twice. No inline script: the CSP forbids it.
const replaced = document.querySelector("[data-replace-url]");
if (replaced) history.replaceState(null, "", replaced.dataset.replaceUrl);

document.addEventListener("click", async (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const source = document.getElementById(copy.dataset.copy);
    if (!source) return;
    const label = copy.dataset.label || copy.textContent;
    copy.dataset.label = label;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      copy.textContent = "Copied";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      copy.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => { copy.textContent = label; }, 2500);
    return;
  }
  const dismiss = event.target.closest("[data-dismiss]");
  if (dismiss) dismiss.closest("[data-dismissable]")?.remove();
});

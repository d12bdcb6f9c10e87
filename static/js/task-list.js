/**
 * The data manager's table: "tick every task on this page" and how many are ticked. Delegated
 * from `document`, so it keeps working after htmx swaps the table in (filters, sort, pages).
 */

function boxes(form) {
  return [...form.querySelectorAll('input[type=checkbox][name="task"]')];
}

function showCount(form) {
  const output = form.querySelector("[data-testid=selected-count]");
  if (!output) return;
  const ticked = boxes(form).filter((box) => box.checked).length;
  output.textContent = ticked ? `${ticked} ticked` : "";
}

document.addEventListener("change", (event) => {
  const form = event.target.closest("#bulk-form");
  if (!form) return;
  if (event.target.matches("[data-select-all]")) {
    for (const box of boxes(form)) box.checked = event.target.checked;
  }
  showCount(form);
});

// Catalog table: select products for a bulk action and say how many are chosen.
const form = document.getElementById("bulk-form");

if (form) {
  const all = document.getElementById("select-all");
  const boxes = () => [...form.querySelectorAll("input[name=products]")];
  const count = document.getElementById("bulk-count");

  function update() {
    const chosen = boxes().filter((box) => box.checked).length;
    count.textContent =
      chosen === 0 ? "No product selected" : `${chosen} product${chosen === 1 ? "" : "s"} selected`;
    all.checked = chosen > 0 && chosen === boxes().length;
    all.indeterminate = chosen > 0 && chosen < boxes().length;
  }

  all.addEventListener("change", () => {
    for (const box of boxes()) box.checked = all.checked;
    update();
  });
  form.addEventListener("change", (event) => {
    if (event.target.name === "products") update();
  });
  form.addEventListener("submit", (event) => {
    if (boxes().some((box) => box.checked)) return;
    event.preventDefault();
    count.textContent = "Select at least one product first.";
  });
  update();
}

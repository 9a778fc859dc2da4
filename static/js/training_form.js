// Training form (admin): show only the fields of the chosen source. Without
// this script every field shows, and the server ignores those of other sources.
const form = document.getElementById("training-form");
const rows = form.querySelectorAll("[data-sources]");

function chosenSource() {
  return form.querySelector('input[name="source"]:checked')?.value || "catalog";
}

function showFieldsOfSource() {
  const source = chosenSource();
  for (const row of rows) {
    row.hidden = !row.dataset.sources.split(" ").includes(source);
  }
}

form.addEventListener("change", (event) => {
  if (event.target.name === "source") showFieldsOfSource();
});
showFieldsOfSource();

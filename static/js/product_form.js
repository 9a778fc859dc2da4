// Product form: drag photos onto the field, and show upload progress on save.
import { wireDropzone } from "./common.js";

const form = document.getElementById("product-form");
const input = form.querySelector("input[type=file]");
const progress = document.getElementById("form-progress");

if (input) {
  const zone = input.closest(".dropzone");
  const names = zone.querySelector(".picked");
  wireDropzone(zone, input, (files) => {
    if (files !== input.files) input.files = files;
    const chosen = [...input.files].map((f) => f.name);
    names.textContent = chosen.length
      ? `${chosen.length} photo${chosen.length === 1 ? "" : "s"} chosen: ${chosen.join(", ")}`
      : "";
  });
}

form.addEventListener("submit", (event) => {
  if (!input || input.files.length === 0) return; // nothing heavy: plain submit
  event.preventDefault();
  progress.hidden = false;
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action || window.location.href);
  xhr.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) progress.value = (100 * e.loaded) / e.total;
  });
  xhr.addEventListener("load", () => {
    const target = new URL(form.action || window.location.href, window.location).href;
    if (xhr.responseURL && xhr.responseURL !== target) {
      window.location.assign(xhr.responseURL);
      return;
    }
    // The form came back with errors: show that page as it is.
    document.open();
    document.write(xhr.responseText);
    document.close();
  });
  xhr.send(new FormData(form));
});

// Import page: send the catalog file with upload progress, then open its job.
import { csrfToken, wireDropzone } from "./common.js";

const form = document.getElementById("importer");
const input = document.getElementById("id_file");
const progress = form.querySelector(".upload-progress");
const bar = progress.querySelector("progress");
const note = progress.querySelector("span");

function send(files) {
  if (!files.length) return;
  const body = new FormData();
  body.append("file", files[0]);
  progress.hidden = false;
  note.textContent = `Uploading ${files[0].name}…`;
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.setRequestHeader("X-CSRFToken", csrfToken());
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) bar.value = (100 * event.loaded) / event.total;
    if (event.loaded === event.total) note.textContent = "Checking the file…";
  });
  xhr.addEventListener("load", () => {
    let answer = null;
    try {
      answer = JSON.parse(xhr.responseText);
    } catch {
      answer = { ok: false, error: `The server answered ${xhr.status}.` };
    }
    if (answer.ok) {
      window.location.assign(answer.url);
    } else {
      note.textContent = answer.error;
      progress.classList.add("error");
    }
  });
  xhr.addEventListener("error", () => {
    note.textContent = "The upload failed: check your connection and try again.";
  });
  xhr.send(body);
}

wireDropzone(form, input, send);

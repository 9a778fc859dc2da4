// Import page: send the catalog file with upload progress, then open its job.
import { postWithProgress, wireDropzone } from "./common.js";

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
  postWithProgress(form.action, body, (share) => {
    bar.value = 100 * share;
    if (share === 1) note.textContent = "Checking the file…";
  })
    .then(({ status, answer }) => {
      if (answer?.ok) {
        window.location.assign(answer.url);
      } else {
        note.textContent = answer?.error ?? `The server answered ${status}.`;
        progress.classList.add("error");
      }
    })
    .catch(() => {
      note.textContent = "The upload failed: check your connection and try again.";
    });
}

wireDropzone(form, input, send);

// Product page: upload photos with progress, then refresh the image cards
// until every photo is classified.
import { csrfToken, wireConfirmations, wireDropzone } from "./common.js";

const form = document.getElementById("uploader");
const input = document.getElementById("id_file");
const list = form.querySelector(".upload-list");
const cards = document.getElementById("image-cards");
// What the photos are waiting for ("Loading the model: ..."), from the status.
const waitNote = document.createElement("p");
waitNote.className = "muted upload-status";
waitNote.setAttribute("role", "status");
list.after(waitNote);
let polling = false;

function uploadOne(file) {
  const item = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  const note = document.createElement("span");
  note.className = "muted";
  item.append(label, bar, note);
  list.append(item);

  const body = new FormData();
  body.append("file", file);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.setRequestHeader("X-CSRFToken", csrfToken());
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) bar.value = (100 * event.loaded) / event.total;
  });
  xhr.addEventListener("load", () => {
    bar.value = 100;
    let result = null;
    try {
      result = JSON.parse(xhr.responseText).results[0];
    } catch {
      result = { ok: false, error: `The server answered ${xhr.status}.` };
    }
    if (result.ok) {
      note.textContent = result.created ? "Uploaded" : result.note;
      item.classList.add("ok");
      startPolling();
    } else {
      note.textContent = result.error;
      item.classList.add("error");
    }
  });
  xhr.addEventListener("error", () => {
    note.textContent = "The upload failed: check your connection and try again.";
    item.classList.add("error");
  });
  xhr.send(body);
}

async function refresh() {
  const response = await fetch(cards.dataset.statusUrl, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) return false;
  const data = await response.json();
  cards.innerHTML = data.html; // server-rendered, escaped by the template
  waitNote.textContent = data.message;
  document.getElementById("no-photos")?.remove();
  document.getElementById("product-category").textContent =
    data.category || "Not set yet";
  document.getElementById("product-category-source").textContent =
    data.category ? `set by ${data.category_source.toLowerCase()}` : "";
  return data.in_flight;
}

async function startPolling() {
  if (polling) return;
  polling = true;
  try {
    let delay = 700;
    // Refresh at least once, then while photos are still being classified.
    while ((await refresh()) || delay === 700) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 1.3, 5000);
    }
  } finally {
    polling = false;
  }
}

wireDropzone(form, input, (files) => {
  for (const file of files) uploadOne(file);
  input.value = "";
});
wireConfirmations();
if (cards.dataset.inFlight === "true") startPolling();

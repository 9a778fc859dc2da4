// Product page: upload photos with progress, refresh the photo cards until
// every photo is classified, and manage the photos (cover, order, delete,
// share, category from a suggestion) without reloading the page.
import { csrfToken, postWithProgress, wireConfirmations, wireDropzone } from "./common.js";

const form = document.getElementById("uploader");
const input = document.getElementById("id_file");
const list = form.querySelector(".upload-list");
const summaryBox = form.querySelector(".upload-summary");
const summaryText = document.getElementById("upload-summary-text");
const cards = document.getElementById("image-cards");
const announcer = document.getElementById("media-announcer");
// What the photos are waiting for ("Loading the model: ..."), from the status.
const waitNote = document.createElement("p");
waitNote.className = "muted upload-status";
waitNote.setAttribute("role", "status");
list.after(waitNote);
let polling = false;

function announce(text) {
  // Cleared first so the same words twice are read twice.
  announcer.textContent = "";
  window.setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

async function post(url, fields) {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    credentials: "same-origin",
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = { ok: false, error: `The server answered ${response.status}.` };
  }
  return data;
}

function shareButton(item, note, result) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "small primary";
  button.textContent = "Use it on this product too";
  button.addEventListener("click", async () => {
    button.disabled = true;
    const data = await post(result.share_url, { image: result.id });
    note.textContent = data.ok ? data.message : data.error;
    item.classList.toggle("error", !data.ok);
    button.remove();
    if (data.ok) startPolling();
  });
  item.append(button);
}

function uploadOne(file) {
  const item = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Upload of ${file.name}`);
  const note = document.createElement("span");
  note.className = "muted";
  item.append(label, bar, note);
  list.append(item);
  summaryBox.hidden = false;

  const body = new FormData();
  body.append("file", file);
  postWithProgress(form.action, body, (share) => {
    bar.value = 100 * share;
  })
    .then(({ status, answer }) => {
      bar.value = 100;
      const result = answer?.results?.[0] ?? {
        ok: false,
        error: `The server answered ${status}.`,
      };
      if (result.ok) {
        note.textContent = result.created ? "Uploaded" : result.note;
        item.classList.add(result.share_url ? "elsewhere" : "ok");
        if (result.share_url) shareButton(item, note, result);
        startPolling();
      } else {
        note.textContent = result.error;
        item.classList.add("error");
      }
    })
    .catch(() => {
      note.textContent = "The upload failed: check your connection and try again.";
      item.classList.add("error");
    });
}

async function refresh() {
  const response = await fetch(cards.dataset.statusUrl, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) return false;
  const data = await response.json();
  const focused = document.activeElement?.closest?.(".image-card");
  const focusKey = focused && [focused.dataset.imageId, focusClass(document.activeElement)];
  cards.innerHTML = data.html; // server-rendered, escaped by the template
  waitNote.textContent = data.message;
  document.getElementById("no-photos")?.remove();
  document.getElementById("product-category").textContent =
    data.category || "Not set yet";
  document.getElementById("product-category-source").textContent =
    data.category ? `set by ${data.category_source.toLowerCase()}` : "";
  document.getElementById("photo-summary").textContent = data.summary;
  if (!summaryBox.hidden) summaryText.textContent = data.summary;
  if (focusKey) restoreFocus(...focusKey);
  return data.in_flight;
}

function focusClass(element) {
  for (const name of ["move-up", "move-down", "suggestion"]) {
    if (element.classList.contains(name)) return name;
  }
  return "";
}

function restoreFocus(imageId, className) {
  const card = cards.querySelector(`.image-card[data-image-id="${imageId}"]`);
  if (!card) return;
  let target = className ? card.querySelector(`.${className}:not([disabled])`) : null;
  target = target || card.querySelector(".move-up:not([disabled]), .move-down:not([disabled])");
  target?.focus();
}

async function startPolling() {
  if (polling) return;
  polling = true;
  cards.dataset.polling = "true"; // for tests that wait for a quiet page
  try {
    let delay = 700;
    // Refresh at least once, then while photos are still being classified.
    while ((await refresh()) || delay === 700) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 1.3, 5000);
    }
  } finally {
    polling = false;
    delete cards.dataset.polling;
  }
}

// --- the photos' order: buttons, keys and drag and drop ----------------------

function currentOrder() {
  return [...cards.querySelectorAll(".image-card")].map((card) => card.dataset.imageId);
}

async function saveOrder(order, movedId) {
  const data = await post(cards.dataset.orderUrl, { order: order.join(",") });
  await refresh();
  if (!data.ok) {
    announce(data.error);
    return;
  }
  const position = order.indexOf(movedId) + 1;
  announce(`Photo moved to position ${position} of ${order.length}.`);
}

async function move(card, offset, focusName) {
  const order = currentOrder();
  const from = order.indexOf(card.dataset.imageId);
  const to = from + offset;
  if (to < 0 || to >= order.length) return;
  [order[from], order[to]] = [order[to], order[from]];
  await saveOrder(order, card.dataset.imageId);
  restoreFocus(card.dataset.imageId, focusName);
}

cards.addEventListener("keydown", (event) => {
  const button = event.target.closest?.(".move-up, .move-down");
  if (!button) return;
  const offset = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1 }[event.key];
  if (!offset) return;
  event.preventDefault();
  move(button.closest(".image-card"), offset, offset < 0 ? "move-up" : "move-down");
});

let dragged = null;
cards.addEventListener("dragstart", (event) => {
  dragged = event.target.closest(".image-card");
  if (!dragged) return;
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", dragged.dataset.imageId);
  dragged.classList.add("dragged");
});
cards.addEventListener("dragover", (event) => {
  if (dragged && event.target.closest(".image-card")) event.preventDefault();
});
cards.addEventListener("drop", (event) => {
  const target = event.target.closest(".image-card");
  if (!dragged || !target || target === dragged) return;
  event.preventDefault();
  const order = currentOrder().filter((id) => id !== dragged.dataset.imageId);
  const before = currentOrder().indexOf(dragged.dataset.imageId) > currentOrder().indexOf(target.dataset.imageId);
  const at = order.indexOf(target.dataset.imageId) + (before ? 0 : 1);
  order.splice(at, 0, dragged.dataset.imageId);
  saveOrder(order, dragged.dataset.imageId);
});
cards.addEventListener("dragend", () => {
  dragged?.classList.remove("dragged");
  dragged = null;
});

// --- cover, delete, move and category forms, answered in place -------------

cards.addEventListener("submit", async (event) => {
  const formEl = event.target;
  event.preventDefault();
  if (formEl.dataset.confirm && !window.confirm(formEl.dataset.confirm)) return;
  const submitter = event.submitter;
  if (formEl.classList.contains("js-move")) {
    move(formEl.closest(".image-card"), Number(submitter.dataset.move), focusClass(submitter));
    return;
  }
  const fields = {};
  if (submitter?.name) fields[submitter.name] = submitter.value;
  const data = await post(formEl.action, fields);
  announce(data.ok ? data.message : data.error);
  await refresh();
});

document.getElementById("upload-clear").addEventListener("click", () => {
  list.replaceChildren();
  summaryBox.hidden = true;
  summaryText.textContent = "";
  input.focus();
});

wireDropzone(form, input, (files) => {
  for (const file of files) uploadOne(file);
  input.value = "";
});
wireConfirmations(document.querySelector(".page-head"));
if (cards.dataset.inFlight === "true") startPolling();

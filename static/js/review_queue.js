// Keyboard shortcuts for working through the review queue in the admin.
//
// Every element with data-shortcut="<key>" answers that key: buttons and links
// are clicked, the category list is focused. j is a second key for "next".
// Keys typed into a field (the category list, a note) are left alone.

const ALIASES = { j: "n", "/": "c" };

const shortcuts = new Map();
for (const element of document.querySelectorAll("[data-shortcut]")) {
  shortcuts.set(element.dataset.shortcut, element);
}

function typingInField(target) {
  return target instanceof Element && target.closest("input, select, textarea, [contenteditable]");
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  if (typingInField(event.target)) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  const key = ALIASES[event.key] || event.key.toLowerCase();
  const element = shortcuts.get(key);
  if (!element) return;
  event.preventDefault();
  if (element.matches("select, input")) {
    element.focus();
  } else {
    element.click();
  }
});

// One decision per page: a second key press while the first is on its way
// would only earn a "already decided" message.
let submitting = false;
for (const form of document.querySelectorAll("form.rq-decision")) {
  form.addEventListener("submit", (event) => {
    if (submitting) {
      event.preventDefault();
      return;
    }
    submitting = true;
    document.body.classList.add("rq-submitting");
  });
}

// Picking a category in a list with Enter submits it.
for (const list of document.querySelectorAll("form.rq-decision select")) {
  list.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && list.value) {
      event.preventDefault();
      list.form.requestSubmit();
    }
  });
}

// Small helpers shared by the page modules.

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// POST form data with upload progress (onProgress gets the share sent, 0 to 1).
// Resolves with the answer's status and its JSON (null when it is not JSON);
// rejects when the connection fails.
export function postWithProgress(url, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let answer = null;
      try {
        answer = JSON.parse(xhr.responseText);
      } catch {
        answer = null;
      }
      resolve({ status: xhr.status, answer });
    });
    xhr.addEventListener("error", () => reject(new Error("connection failed")));
    xhr.send(body);
  });
}

// Ask before submitting forms marked with data-confirm (delete buttons).
export function wireConfirmations(root = document) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

// Let a dropzone element take files dragged onto it into its file input.
export function wireDropzone(zone, input, onFiles) {
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    onFiles(event.dataTransfer.files);
  });
  input.addEventListener("change", () => onFiles(input.files));
}

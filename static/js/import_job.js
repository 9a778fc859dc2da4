// Import job page: refresh the counts from the API until the job ends.
const card = document.getElementById("import-job");
const bar = card.querySelector("progress");

async function refresh() {
  const response = await fetch(card.dataset.statusUrl, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) return false;
  const job = await response.json();
  for (const element of card.querySelectorAll("[data-field]")) {
    const name = element.dataset.field;
    if (name === "status") {
      element.textContent = job.status.charAt(0).toUpperCase() + job.status.slice(1);
    } else if (name === "message") {
      element.textContent = job.message;
      element.hidden = !job.message;
    } else {
      element.textContent = job[name];
    }
  }
  bar.value = Math.round(100 * job.progress);
  const finished = job.status === "succeeded" || job.status === "failed";
  if (finished) card.querySelector("[data-reload-note]").hidden = false;
  return !finished;
}

async function poll() {
  let delay = 700;
  while (await refresh()) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 1.3, 5000);
  }
}

if (card.dataset.finished !== "true") poll();

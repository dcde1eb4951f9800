// The console: a page that polls the control API (under ./api/) and renders what it says.
// No build step and nothing from the network: plain DOM calls, served by `orders dev`.
"use strict";

const api = (path) => fetch(`api/${path}`).then((answer) => {
  if (!answer.ok) throw new Error(`${path}: ${answer.status}`);
  return answer.json();
});
const $ = (selector) => document.querySelector(selector);
let selectedOrder = new URLSearchParams(location.search).get("order");
let selectedTrace = null;  // an X-Ray trace id: the invocations show that trace only

function cell(text, className) {
  const td = document.createElement("td");
  if (text instanceof Node) td.append(text); else td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells);
    return tr;
  }));
}

function correlationFilter() {
  return $("#correlation").value.trim();
}

function orderLink(id) {
  const link = document.createElement("a");
  link.href = `?order=${encodeURIComponent(id)}`;
  link.className = "order-link";
  link.textContent = id;
  link.addEventListener("click", (click) => {
    click.preventDefault();
    selectedOrder = id;
    history.replaceState(null, "", link.href);
    refresh();
  });
  return link;
}

async function showOrders() {
  const { orders } = await api("orders");
  const wanted = correlationFilter();
  const shown = orders.filter((order) => !wanted || order.correlation_id === wanted);
  fill($("#orders tbody"), shown.map((order) => {
    const row = [
      cell(orderLink(order.order_id)),
      cell(order.status, `status status-${order.status}`),
      cell(order.read_model_status ?? "(none)", `read-model-status status-${order.read_model_status}`),
      cell(order.agrees ? "✓" : "✗", order.agrees ? "agree" : "disagree"),
      cell(`${order.total} ${order.currency}`),
      cell(order.email),
      cell(order.events),
      cell(order.correlation_id, "mono"),
    ];
    return row;
  }));
  [...$("#orders tbody").children].forEach((tr, index) => { tr.dataset.orderId = shown[index].order_id; });
}

async function showOrder() {
  const section = $("#order-section");
  if (!selectedOrder) { section.hidden = true; return; }
  const order = await api(`orders/${encodeURIComponent(selectedOrder)}`);
  section.hidden = false;
  $("#order-id").textContent = order.order_id;
  fill($("#event-log tbody"), order.log.map((event) => [
    cell(event.version),
    cell(event.type, "event-type"),
    cell(event.occurred_at, "mono"),
    cell(event.correlation_id, "mono"),
    cell(event.causation_id ?? "", "mono"),
    cell(event.event_id, "mono"),
    cell(JSON.stringify(event.data), "mono"),
  ]));
  $("#state-from-log").textContent = JSON.stringify(order.state_from_log, null, 2);
  $("#read-model-row").textContent = JSON.stringify(order.read_model_row, null, 2);
  $("#agreement").textContent = order.agrees ? "✓ agrees with the log" : "✗ differs from the log";
  $("#agreement").className = order.agrees ? "agree" : "disagree";
}

async function showStock() {
  const { stock } = await api("stock");
  fill($("#stock tbody"), stock.map((head) => [
    cell(head.sku), cell(head.available), cell(head.reserved), cell(head.committed),
    cell(head.price ? `${head.price} ${head.currency}` : ""), cell(head.version),
  ]));
}

async function showQueues() {
  const [status, { dead_letters: deadLetters }] = await Promise.all([api("status"), api("dead-letters")]);
  const idle = $("#idle");
  idle.textContent = status.idle ? "pipeline idle" : "pipeline busy";
  idle.className = `pill ${status.idle ? "idle" : "busy"}`;
  fill($("#queues tbody"), Object.entries(status.queues).map(([name, depth]) => [
    cell(name), cell(depth.visible), cell(depth.in_flight),
    cell(status.dead_letter_queues.includes(name) ? redriveButton(name) : ""),
  ]));
  const parked = Object.entries(deadLetters).flatMap(([queue, messages]) => messages.map((message) => {
    const block = document.createElement("details");
    block.innerHTML = "<summary></summary><pre></pre>";
    block.querySelector("summary").textContent = `${queue}: ${message.message_id}`;
    block.querySelector("pre").textContent = JSON.stringify(message, null, 2);
    return block;
  }));
  $("#dead-letters").replaceChildren(...parked);
}

// The same control API call as `orders dlq redrive NAME`; each report is added to the list.
function redriveButton(queue) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "redrive";
  button.dataset.queue = queue;
  button.textContent = "redrive";
  button.title = `put what ${queue} holds back where it came from`;
  button.addEventListener("click", () => redrive(queue));
  return button;
}

async function redrive(queue) {
  const line = document.createElement("li");
  line.textContent = `${queue}: redriving…`;
  $("#redrive-reports").prepend(line);
  try {
    const answer = await fetch(`api/dlq/${encodeURIComponent(queue)}/redrive`, { method: "POST" });
    const report = await answer.json();
    if (!answer.ok) throw new Error(report.message ?? `${answer.status}`);
    const parts = [`${report.queue}: ${report.redriven} message(s) redriven to ${report.source}`];
    if (report.records) parts.push(`${report.records} stream record(s) delivered again`);
    report.left.forEach((left) => parts.push(`left ${left.message_id}: ${left.reason}`));
    line.textContent = parts.join("; ");
    line.className = report.left.length ? "failed" : "";
  } catch (error) {
    line.textContent = `${queue}: redrive failed: ${error.message}`;
    line.className = "failed";
  }
  refresh();
}

async function showEmails() {
  const { emails } = await api("emails");
  $("#emails").replaceChildren(...emails.map((email) => {
    const block = document.createElement("article");
    block.className = "email";
    block.innerHTML = "<h3 class=subject></h3><div class=to></div><pre class=body></pre>";
    block.querySelector(".subject").textContent = email.subject;
    block.querySelector(".to").textContent = `to ${email.to.join(", ")}, from ${email.source}`;
    block.querySelector(".body").textContent = email.body;
    return block;
  }));
}

function traceLink(id) {
  const link = document.createElement("a");
  link.href = "#invocations";
  link.className = "trace-link";
  link.textContent = id ? id.slice(-8) : "";
  link.title = id || "";
  link.addEventListener("click", (click) => {
    click.preventDefault();
    selectedTrace = selectedTrace === id ? null : id;
    refresh();
  });
  return link;
}

async function showInvocations() {
  const wanted = correlationFilter();
  const query = new URLSearchParams({ limit: "50" });
  if (wanted) query.set("traced", wanted);
  if (selectedTrace) query.set("trace_id", selectedTrace);
  const { invocations } = await api(`invocations?${query}`);
  $("#trace").textContent = selectedTrace
    ? `trace ${selectedTrace}: ${invocations.map((i) => i.function).join(" → ")} (click its id again to show all)`
    : "";
  fill($("#invocations tbody"), invocations.reverse().map((invocation) => {
    const logs = document.createElement("details");
    logs.innerHTML = "<summary></summary><pre></pre>";
    logs.querySelector("summary").textContent = `${invocation.logs.length} line(s)`;
    logs.querySelector("pre").textContent = invocation.logs.join("\n");
    return [
      cell(invocation.function),
      cell(invocation.source),
      cell(invocation.cold_start ? "cold" : "warm"),
      cell(`${invocation.duration_ms} ms`),
      cell(invocation.ok ? "ok" : invocation.error_type, invocation.ok ? "" : "failed"),
      cell(invocation.correlation_ids.join(" "), "mono"),
      cell(traceLink(invocation.trace_id), "mono"),
      cell(logs),
    ];
  }));
}

async function showAlarms() {
  const { alarms } = await api("alarms");
  const counts = {};
  alarms.forEach((alarm) => { counts[alarm.state] = (counts[alarm.state] || 0) + 1; });
  $("#alarm-summary").textContent = Object.entries(counts).map(([state, n]) => `${n} ${state}`).join(", ");
  const state = (alarm) => cell(alarm.state, `alarm-${alarm.state}`);
  const firing = alarms.filter((alarm) => alarm.state === "ALARM");
  $("#alarms").hidden = firing.length === 0;
  fill($("#alarms tbody"), firing.map((alarm) => [
    cell(alarm.name), state(alarm), cell(alarm.metric, "mono"), cell(alarm.statistic),
    cell(`> ${alarm.threshold}`), cell(alarm.since), cell(alarm.reason),
  ]));
  fill($("#all-alarms tbody"), alarms.map((alarm) => [
    cell(alarm.name), state(alarm), cell(alarm.metric, "mono"), cell(alarm.description),
  ]));
}

async function refresh() {
  const parts = [showOrders, showOrder, showStock, showAlarms, showQueues, showEmails, showInvocations];
  const outcomes = await Promise.allSettled(parts.map((part) => part()));
  outcomes.filter((o) => o.status === "rejected").forEach((o) => console.error(o.reason));
}

$("#close-order").addEventListener("click", () => {
  selectedOrder = null;
  history.replaceState(null, "", location.pathname);
  refresh();
});
$("#correlation").addEventListener("input", refresh);
refresh();
setInterval(refresh, 1000);

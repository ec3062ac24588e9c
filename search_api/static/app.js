// policykb page helpers: copy a citation or a permalink, fold the document outline on phones, upload a
// file with the token (sent as a header, never in a URL; without JavaScript the form posts itself).
// No build step, no framework.
"use strict";

// Copy `data-copy` (or the value of the input named by `data-copy-from`). Where the clipboard API is
// missing (plain http, an old browser) the input's text is selected for Ctrl+C; a bare link is offered in a prompt.
document.querySelectorAll("button.copy").forEach((button) => {
  button.addEventListener("click", async () => {
    const source = button.dataset.copyFrom ? document.getElementById(button.dataset.copyFrom) : null;
    const text = source ? source.value : new URL(button.dataset.copy, window.location.origin).href;
    const note = document.getElementById("copy-note");
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "已复制";
      if (note) note.textContent = "";
    } catch (error) {
      if (!source) {
        window.prompt("复制这个链接：", text);
        return;
      }
      source.focus();
      source.select();
      if (note) note.textContent = "浏览器不允许直接复制：文字已选中，请按 Ctrl+C（手机上长按）复制";
    }
  });
});

// On a phone the outline starts folded, so the matrix and the text come first.
const outline = document.querySelector("details.outline");
if (outline && window.matchMedia("(max-width: 800px)").matches) outline.open = false;

const uploadForm = document.getElementById("upload");
if (uploadForm) {
  uploadForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = document.getElementById("upload-result");
    const data = new FormData();
    data.append("file", uploadForm.elements.file.files[0]);
    result.textContent = "正在上传并导入……";
    const replace = uploadForm.elements.replace.value.trim();
    const endpoint = uploadForm.dataset.endpoint + (replace ? "?replace=" + encodeURIComponent(replace) : "");
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { Authorization: "Bearer " + uploadForm.elements.token.value },
      body: data,
    });
    const body = await response.json();
    result.textContent = "";
    if (response.ok) {
      const statusText = { added: "已导入", replaced: "已更新为新版本", unchanged: "内容未变，无需导入", older: "库中已有更新的版本" };
      const link = document.createElement("a");
      link.href = body.permalink;
      link.textContent = body.title;
      result.append((statusText[body.status] || body.status) + "：", link, `（${body.clauses} 个条款）`);
    } else {
      result.textContent = "上传失败：" + body.error.message;
      result.className = "error";
    }
  });
}

// A result's level tabs (国家 / 湖北省 / 武汉市): the same measure in each level's document, read from
// /api/clauses and shown in the result's place. Without JavaScript a tab is a link to the clause page.
const ROLE_TEXT = { lead: "牵头", co: "责任", support: "配合", inherited: "承继" };
const BASIS_TEXT = { presumed: "（推定）", rule: "（依规则）" };
document.querySelectorAll(".level-tabs").forEach((tabs) => {
  const panel = tabs.parentElement.querySelector(".level-panel");
  tabs.addEventListener("click", async (event) => {
    const tab = event.target.closest("a.level-tab");
    if (!tab || event.ctrlKey || event.metaKey || event.shiftKey || tab.getAttribute("aria-selected") === "true") return;
    event.preventDefault();
    const response = await fetch("/api/clauses/" + encodeURIComponent(tab.dataset.clause));
    if (!response.ok) {
      window.location.href = tab.href;
      return;
    }
    const clause = await response.json();
    const link = (href, text, className) => Object.assign(document.createElement("a"), { href, textContent: text, className: className || "" });
    const where = panel.querySelector(".where");
    where.replaceChildren(link("/documents/" + encodeURIComponent(clause.doc_id), clause.doc_title),
      ...clause.heading_path.map((item) => Object.assign(document.createElement("span"), { className: "crumb", textContent: item })));
    panel.querySelector("h2").replaceChildren(link(clause.permalink, clause.number + clause.title, "permalink"));
    panel.querySelector(".highlight").textContent = clause.text;
    const chips = panel.querySelector(".chips") || panel.appendChild(Object.assign(document.createElement("span"), { className: "chips" }));
    chips.replaceChildren(...clause.departments.slice(0, 12).map((item) => {
      const chip = link("/departments/" + encodeURIComponent(item.canonical), " " + item.name, "chip role-" + item.role);
      chip.prepend(Object.assign(document.createElement("b"), { className: "role-text",
        textContent: ROLE_TEXT[item.role] + (item.role === "lead" ? BASIS_TEXT[item.lead_basis] || "" : "") }));
      return chip;
    }));
    tabs.querySelectorAll("a.level-tab").forEach((other) => other.setAttribute("aria-selected", String(other === tab)));
  });
});

// sam3.cpp web UI — the results list: the kept objects of click mode (each with a remove button), then one group per
// prompt of the concept result with its instances above the threshold, best first (each with a "Refine" button that
// starts a pick from its box). Rows carry their key, score, box and areas as data attributes (hover, tests).
//   kept, visible: items {key, score, box, area, maskArea, color, label, prompt}; prompts: the result's prompts
//   ({text, sent, instances}) or null; name(item): its label; onRefine(item), onRemoveKept(item).

export function renderResultList(box, { kept, prompts, visible, hoverKey, name, canRefine, onRefine, onRemoveKept }) {
  box.replaceChildren();
  if (kept.length) {
    const sec = document.createElement('section');
    sec.className = 'prompt-group kept-group';
    const h = document.createElement('h3');
    const title = document.createElement('span');
    title.textContent = 'Kept objects';
    const meta = document.createElement('span');
    meta.className = 'muted';
    meta.textContent = `${kept.length} clicked out · score = predicted IoU`;
    h.append(title, meta);
    const ol = document.createElement('ol');
    ol.className = 'instances';
    for (const v of kept) {
      const li = instanceRow(v, name, hoverKey);
      li.classList.add('kept');
      const x = document.createElement('button');
      x.type = 'button';
      x.className = 'icon-btn';
      x.textContent = '×';
      x.setAttribute('aria-label', `Remove ${v.label}`);
      x.title = 'Remove this object';
      x.addEventListener('click', () => onRemoveKept(v));
      li.appendChild(x);
      ol.appendChild(li);
    }
    sec.append(h, ol);
    box.appendChild(sec);
  }
  if (!prompts) return;
  prompts.forEach((p, pi) => {
    const shown = visible.filter((v) => v.prompt === pi).sort((a, b) => b.score - a.score);
    const sec = document.createElement('section');
    sec.className = 'prompt-group';
    const h = document.createElement('h3');
    const title = document.createElement('span');
    title.textContent = p.text ? `“${p.text}”` : 'Boxes alone';
    const nb = p.sent.boxes?.length ?? 0;
    const meta = document.createElement('span');
    meta.className = 'muted';
    meta.textContent = `${nb ? `${nb} box${nb > 1 ? 'es' : ''} · ` : ''}${shown.length} of ${p.instances.length}`;
    h.append(title, meta);
    sec.appendChild(h);
    const ol = document.createElement('ol');
    ol.className = 'instances';
    for (const v of shown) {
      const li = instanceRow(v, name, hoverKey);
      if (canRefine) {
        const r = document.createElement('button');
        r.type = 'button';
        r.className = 'btn-mini refine';
        r.textContent = 'Refine';
        r.title = 'Segment this object by clicking, starting from its box';
        r.setAttribute('aria-label', `Refine ${name(v)} by clicking`);
        r.addEventListener('click', () => onRefine(v));
        li.appendChild(r);
      }
      ol.appendChild(li);
    }
    if (!shown.length) {
      const li = document.createElement('li');
      li.className = 'empty muted';
      li.textContent = p.instances.length ? 'None above the threshold.' : 'Nothing found.';
      ol.appendChild(li);
    }
    sec.appendChild(ol);
    box.appendChild(sec);
  });
}

// One row (a concept instance or a kept object); the caller appends its button.
function instanceRow(v, itemName, hoverKey) {
  const li = document.createElement('li');
  li.className = 'instance' + (v.key === hoverKey ? ' hovered' : '');
  li.tabIndex = 0;
  li.dataset.key = v.key;
  li.dataset.score = String(v.score);
  li.dataset.box = JSON.stringify(v.box);
  li.dataset.area = String(v.area);
  if (v.maskArea != null) li.dataset.maskArea = String(v.maskArea);
  li.style.setProperty('--c', v.color);
  const sw = document.createElement('span');
  sw.className = 'swatch';
  const name = document.createElement('span');
  name.className = 'inst-name';
  name.textContent = itemName(v);
  name.title = itemName(v);
  const score = document.createElement('span');
  score.className = 'inst-score';
  score.textContent = v.score.toFixed(3);
  const bar = document.createElement('span');
  bar.className = 'score-bar';
  bar.style.setProperty('--s', String(Math.max(0, Math.min(1, v.score))));
  bar.setAttribute('aria-hidden', 'true');
  const area = document.createElement('span');
  area.className = 'inst-area muted';
  area.textContent = `${v.area.toLocaleString()} px`;
  li.append(sw, name, bar, score, area);
  li.setAttribute('aria-label', `${itemName(v)}, score ${v.score.toFixed(3)}, ${v.area} pixels`);
  return li;
}

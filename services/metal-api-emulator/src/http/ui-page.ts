// The read-only page at `/`: it polls /emulator/state and renders tables, so people can watch machines
// being allocated and provisioned while the system runs. Plain DOM, no dependencies.
export const UI_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>metal-api emulator</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:1rem 2rem;color:#222}
h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4;position:sticky;top:0}code{font-size:12px}
.Alive{color:#18794e}.Dead{color:#c00}.Unknown{color:#b76e00}.alloc{background:#eef6ff}.freeing{background:#fff4e0}
#meta{color:#666}input{margin-left:1rem}
</style></head><body>
<h1>metal-api emulator</h1><div id="meta">loading…</div>
<h2>Partitions</h2><table id="partitions"></table>
<h2>Machines <input id="filter" placeholder="filter (id, rack, project, hostname, event…)"></h2><table id="machines"></table>
<h2>Networks</h2><table id="networks"></table>
<h2>IPs</h2><table id="ips"></table>
<script>
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"})[c]);
function table(id, head, rows, cls) {
  document.getElementById(id).innerHTML = "<tr>" + head.map((h) => "<th>" + esc(h) + "</th>").join("") + "</tr>" +
    rows.map((r, i) => "<tr class='" + esc(cls ? cls(i) : "") + "'>" + r.map((c) => "<td>" + c + "</td>").join("") + "</tr>").join("");
}
async function refresh() {
  try {
    const s = await (await fetch("emulator/state", { cache: "no-store" })).json();
    const f = s.faults;
    document.getElementById("meta").textContent = "updated " + new Date(s.generatedAt).toLocaleTimeString() +
      " · faults: latency " + f.latencyMs + " ms, error rate " + f.errorRate + (f.down ? ", DOWN" : "") +
      (f.dropAllocateResponses ? ", dropping " + f.dropAllocateResponses + " allocate answers" : "");
    table("partitions", ["partition", "name", "machines", "allocated", "waiting"], s.partitions.map((p) => [esc(p.id), esc(p.name), p.machines, p.allocated, p.waiting]));
    const q = document.getElementById("filter").value.toLowerCase();
    const ms = s.machines.filter((m) => !q || JSON.stringify(m).toLowerCase().includes(q));
    table("machines", ["id", "partition", "rack", "size", "liveliness", "state", "last event", "project", "hostname", "role", "ips"],
      ms.map((m) => ["<code>" + esc(m.id) + "</code>", esc(m.partition), esc(m.rack), esc(m.size),
        "<span class='" + esc(m.liveliness) + "'>" + esc(m.liveliness) + "</span>", esc(m.state),
        esc(m.lastEvent) + " <small>" + esc(new Date(m.lastEventTime).toLocaleTimeString()) + "</small>",
        esc(m.allocation?.project), esc(m.allocation?.hostname), esc(m.allocation?.role), esc((m.allocation?.ips ?? []).join(" "))]),
      (i) => (ms[i].freeing ? "freeing" : ms[i].allocation ? "alloc" : ""));
    table("networks", ["id", "name", "partition", "project", "type", "prefixes", "vrf", "ips"],
      s.networks.map((n) => ["<code>" + esc(n.id) + "</code>", esc(n.name), esc(n.partition), esc(n.project), esc(n.type), esc(n.prefixes.join(" ")), n.vrf, n.ips]));
    table("ips", ["address", "network", "project", "type", "name", "tags"],
      s.ips.map((ip) => [esc(ip.ipaddress), esc(ip.networkid), esc(ip.projectid), esc(ip.type), esc(ip.name), esc((ip.tags ?? []).join(" "))]));
  } catch (e) {
    document.getElementById("meta").textContent = "emulator not reachable: " + e;
  }
}
refresh();
setInterval(refresh, 2000);
</script></body></html>
`;

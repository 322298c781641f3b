// Writes a data-centre description with G groups (in G/10 categories) and M
// machines, half active and half in group pools: the store for start-up benchmarks.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { pathToFileURL } from 'node:url';

export function largeDataCentre(groups = 1000, machines = 10000) {
  const perGroup = Math.ceil(machines / groups);
  const categories = [];
  const allMachines = [];
  for (let c = 0; c < groups / 10; c++) {
    const cat = { name: `cat${String(c).padStart(3, '0')}`, priority: c + 1, groups: [] };
    for (let k = 0; k < 10; k++) {
      const g = c * 10 + k;
      const gname = `grp${String(g).padStart(4, '0')}`;
      const hosts = [];
      const pool = [];
      for (let i = 0; i < perGroup; i++) {
        const n = g * perGroup + i;
        if (n >= machines) break;
        const name = `m${String(n).padStart(5, '0')}`;
        const host = `${gname}-h${i}`;
        hosts.push({ host, nics: [{ addresses: [{ ip: `10.${(g >> 8) & 255}.${g & 255}.${i + 1}`, netmask: '255.255.255.0' }] }] });
        pool.push({ machine: name, model: 'std' });
        const mac = n.toString(16).padStart(6, '0').match(/../g).join(':').toUpperCase();
        const m = { name, kind: 'physical', macs: [`00:25:90:${mac}`], hw_model: 'R120h' };
        if (i % 2 === 0) m.active = { group: `${cat.name}/${gname}`, model: 'std', host, from: 'group_pool' };
        allMachines.push(m);
      }
      cat.groups.push({ name: gname, priority: k + 1, type: 'physical', models: [{ name: 'std', priority: 1 }], host_settings: hosts, pool });
    }
    categories.push(cat);
  }
  return { kanri: 1, categories, machines: allMachines };
}

// Only as a script (node bench/make-large-dc.mjs FILE [groups] [machines]), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2]) {
  writeFileSync(process.argv[2], stringify(largeDataCentre(Number(process.argv[3] ?? 1000), Number(process.argv[4] ?? 10000)), { lineWidth: 0 }));
}

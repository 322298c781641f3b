// A data centre for engine tests: every optional subsystem switched on in the
// "Full" groups and off in the "Bare" ones, with zero sim delays.
const DRIVERS = '{ power: sim, deploy: sim, vm: sim, storage: sim, vlan: sim, lb: sim, monitor: sim }';

export const ENGINE_DC = `
kanri: 1
settings: { sim.delay_ms: "0", standby_dhcp_scenario: SetDHCP }
software:
  - { name: OS, kind: scenario, version: "1", date: "2026-01-01" }
  - { name: App, kind: scenario, version: "1", date: "2026-01-01" }
  - { name: Wipe, kind: scenario }
  - { name: SetDHCP, kind: scenario }
  - { name: T1, kind: template, cost: 10 }
volumes:
  - { name: LD1, array: A1, kind: istorage }
groups:
  - name: Full
    priority: 1
    type: physical
    storage: true
    vlan: V-full
    load_balancer: LB-full
    dpm_registration: true
    allow_common_pool: true
    drivers: ${DRIVERS}
    software: { activation: [App], standby: [Wipe] }
    models: [{ name: m, priority: 1, software: { activation: [OS] } }]
    host_settings:
      - { host: f1, nics: [{ addresses: [{ ip: 10.1.0.1, netmask: 255.255.0.0 }] }], volumes: [LD1] }
      - { host: f2, nics: [{ addresses: [{ ip: 10.1.0.2, netmask: 255.255.0.0 }] }] }
      - { host: f3, nics: [{ addresses: [{ ip: 10.1.0.3, netmask: 255.255.0.0 }] }] }
    pool: [pf1, pf2, pf3]
  - name: Full2
    priority: 2
    type: physical
    storage: true
    vlan: V-full2
    load_balancer: LB-full2
    drivers: ${DRIVERS}
    models: [{ name: m }]
    host_settings: [{ host: g1 }, { host: g2 }]
    pool: [pf1, pf2, pf3]
  - name: Bare
    priority: 3
    type: physical
    drivers: ${DRIVERS}
    models: [{ name: m }]
    host_settings: [{ host: b1 }, { host: b2 }, { host: b3 }]
    pool: [pb1, pb2, pb3]
  - name: Bare2
    priority: 4
    type: physical
    drivers: ${DRIVERS}
    models: [{ name: m }]
    host_settings: [{ host: c1 }, { host: c2 }]
    pool: [pb1, pb2, pb3]
  - name: Hosts
    type: vmserver
    drivers: ${DRIVERS}
    models: [{ name: esx }]
    host_settings: [{ host: h1 }, { host: h2 }]
  - name: VFull
    type: virtual
    load_balancer: LB-vm
    dpm_registration: true
    template: T1
    drivers: ${DRIVERS}
    software: { activation: [App], standby: [Wipe] }
    models: [{ name: vm, register_dpm_on_create: true, vm_server_model: Hosts/esx }]
    host_settings: [{ host: v1, nics: [{ addresses: [{ ip: 10.2.0.1, netmask: 255.255.0.0 }] }] }, { host: v2 }, { host: v3 }]
  - name: VBare
    type: virtual
    template: T1
    drivers: ${DRIVERS}
    models: [{ name: vm }]
    host_settings: [{ host: w1 }, { host: w2 }, { host: w3 }]
machines:
  - { name: pf1, kind: physical, mgmt_address: 10.0.0.1, hw_model: R120h, dpm_registered: true }
  - { name: pf2, kind: physical, mgmt_address: 10.0.0.2, hw_model: R120h, dpm_registered: true }
  - { name: pf3, kind: physical, mgmt_address: 10.0.0.3, hw_model: R120h, dpm_registered: true }
  - { name: pb1, kind: physical, hw_model: R110j }
  - { name: pb2, kind: physical, hw_model: R110j }
  - { name: pb3, kind: physical, hw_model: R110j }
  - { name: vms1, kind: vmserver, power: on, capacity: 100, datastores: [{ name: ds1, shared: true }, { name: local1 }], active: { group: Hosts, model: esx, host: h1, from: master } }
  - { name: vms2, kind: vmserver, power: on, capacity: 100, datastores: [{ name: ds1, shared: true }, { name: local2 }], active: { group: Hosts, model: esx, host: h2, from: master } }
  - { name: vm-a, kind: virtual, vm_server: vms1, datastore: ds1, cost: 10 }
  - { name: vm-b, kind: virtual, vm_server: vms1, datastore: ds1, cost: 10 }
  - { name: vm-c, kind: virtual, vm_server: vms1, datastore: local1, cost: 10 }
  - { name: vm-d, kind: virtual, vm_server: vms1, datastore: ds1, cost: 10 }
  - { name: cp1, kind: physical, hw_model: R120h, dpm_registered: true }
  - { name: cp2, kind: physical, hw_model: R999, dpm_registered: true }
  - { name: cp3, kind: physical, hw_model: R120h }
`;

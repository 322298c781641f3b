// kanri's own monitor as a machine's `monitor` driver. Registering a machine asks nothing of
// a peer: `kanri monitor` polls every machine with a management controller and matches the
// traps of its BMC, so registration says what will watch the machine. The inventory is the
// controller's (the info interface of its controller driver, through the registry).
import { controllerOf } from '../controller.js';
import { bindController } from '../registry.js';
import { settingNumber } from '../setting-reader.js';
import { type Driver, type DriverContext, type MachineRef, notSupported } from '../types.js';
import { KANRI_MONITOR } from './spec.js';

/** The model name among a controller's inventory lines: IPMI FRU product, then board; Redfish System model, then Chassis. */
export const MODEL_KEYS = ['product_name', 'model', 'board_product', 'chassis_model'] as const;

export function modelOf(lines: Array<[string, string]>): string | undefined {
  const byKey = new Map(lines);
  for (const k of MODEL_KEYS) {
    const v = byKey.get(k)?.trim();
    if (v) return v;
  }
  return undefined;
}

function registered(ctx: DriverContext, m: MachineRef): NonNullable<ReturnType<typeof controllerOf>> | undefined {
  const row = controllerOf(ctx.db, m);
  return row?.mgmt_type ? row : undefined;
}

export function createKanriMonitorDriver(): Driver {
  return {
    name: 'kanri',
    interfaces: {
      monitor: {
        async register(ctx, m, address) {
          const row = registered(ctx, m);
          ctx.log(row
            ? `${m.name}: watched by kanri monitor (polling and traps of its ${row.mgmt_type} controller at ${row.bmc_address ?? '?'})`
            : `${m.name}: no management controller registered: kanri monitor matches only the traps sent from ${address || 'its addresses'}`);
        },
        async unregister(ctx, m) {
          ctx.log(`${m.name}: no longer matched to a group's policy`);
        },
        async inventory(ctx, m) {
          const row = registered(ctx, m);
          if (!row) {
            ctx.log(`${m.name}: no management controller registered: no inventory to read`);
            return {};
          }
          const bound = await bindController(ctx.db, row, { info: 'inventory' });
          if (!bound.info.hardware) throw notSupported(`inventory is not supported for mgmt=${row.mgmt_type}`);
          const deadline = settingNumber(ctx.db, KANRI_MONITOR.settings, 'kanri.inventory_deadline_s');
          const lines = await bound.info.hardware(ctx, bound.machine, { deadlineMs: deadline * 1000 });
          const hwModel = modelOf(lines);
          ctx.log(`${m.name}: ${row.mgmt_type} inventory read (${lines.length} items)${hwModel ? '' : ', no model name in it'}`);
          return hwModel ? { hwModel } : {};
        },
      },
    },
  };
}

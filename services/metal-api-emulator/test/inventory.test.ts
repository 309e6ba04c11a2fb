import { writeFileSync } from "node:fs";
import { makeTempDir } from "@metal-kube/testing";
import test from "ava";
import { stringify } from "yaml";
import { DEFAULT_INVENTORY_FILE, InventoryError, parseInventory, readInventoryFile } from "../src/index.js";
import { stateFromInventory } from "../src/inventory/load-inventory.js";
import { inventory } from "./harness.js";

test("the shipped inventory: 2 partitions, 3 sizes, 4 images, 240 machines in 12 racks", async (t) => {
  const inv = await readInventoryFile(DEFAULT_INVENTORY_FILE);
  const s = stateFromInventory(inv);
  t.is(s.catalog.partitions.length, 2);
  t.is(s.catalog.sizes.length, 3);
  t.is(s.catalog.images.length, 4);
  t.is(s.machines.length, 240);
  t.is(new Set(s.machines.map((m) => m.rackid)).size, 12);
  t.is(new Set(s.machines.map((m) => m.id)).size, 240);
  t.true(s.catalog.images.some((i) => i.features?.includes("firewall")));
  t.true(s.networks.some((n) => n.id === "internet" && n.nat));
  t.is(s.networks.filter((n) => n.underlay).length, 2);
  t.is(s.networks.filter((n) => n.privatesuper).length, 2);
  t.true(s.networks.some((n) => n.shared));
  t.true(
    s.machines.every(
      (m) => m.events[0]?.event === "Waiting" && m.liveliness === "Alive" && m.allocation === null,
    ),
  );
  // ids are stable across loads
  t.deepEqual(
    stateFromInventory(inv).machines.map((m) => m.id),
    s.machines.map((m) => m.id),
  );
});

test("YAML and JSON files load alike", async (t) => {
  const dir = makeTempDir("emulator-inventory-");
  t.teardown(dir.remove);
  writeFileSync(`${dir.path}/inv.yaml`, stringify(inventory()));
  writeFileSync(`${dir.path}/inv.json`, JSON.stringify(inventory()));
  t.deepEqual(
    await readInventoryFile(`${dir.path}/inv.yaml`),
    await readInventoryFile(`${dir.path}/inv.json`),
  );
  writeFileSync(`${dir.path}/bad.yaml`, "partitions: [");
  await t.throwsAsync(readInventoryFile(`${dir.path}/bad.yaml`), {
    instanceOf: InventoryError,
    message: /not valid YAML/,
  });
  await t.throwsAsync(readInventoryFile(`${dir.path}/missing.yaml`), { instanceOf: InventoryError });
});

test("bad inventories are refused with each field named", (t) => {
  const inv = inventory() as Record<string, unknown> & {
    machines: Record<string, unknown>[];
    racks: Record<string, unknown>[];
  };
  const e = t.throws(
    () =>
      parseInventory({
        ...inv,
        machines: [
          { rack: "nope", size: "c1-large-x86" },
          { rack: "p1-rack-1", size: "huge", colour: "red" },
        ],
      }),
    { instanceOf: InventoryError },
  );
  t.regex(e!.message, /machines\.1: Unrecognized key: "colour"/);
  const e2 = t.throws(() => parseInventory({ ...inv, machines: [{ rack: "nope", size: "huge" }] }), {
    instanceOf: InventoryError,
  });
  t.regex(e2!.message, /machines\.0\.rack: unknown rack nope/);
  t.regex(e2!.message, /machines\.0\.size: unknown size huge/);
  const e3 = t.throws(() => parseInventory({ ...inv, images: [{ id: "x", features: ["gpu"] }] }), {
    instanceOf: InventoryError,
  });
  t.regex(e3!.message, /images\.0\.features\.0/);
  const e4 = t.throws(() => parseInventory({ ...inv, racks: [...inv.racks, inv.racks[0]] }), {
    instanceOf: InventoryError,
  });
  t.regex(e4!.message, /rack p1-rack-1 is defined twice/);
});

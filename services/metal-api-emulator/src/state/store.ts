import type { Catalog, IpRecord, MachineRecord, NetworkRecord, StateData } from "./types.js";

/**
 * The emulator's in-memory database. Machines are indexed by tag so a find with a tag filter (the services'
 * most common query) touches only the machines carrying the rarest tag, not the whole inventory.
 */
export class Store {
  readonly catalog: Catalog;
  readonly machines = new Map<string, MachineRecord>();
  readonly networks = new Map<string, NetworkRecord>();
  readonly ips = new Map<string, IpRecord>();
  readonly asns = new Set<number>();
  private readonly byTag = new Map<string, Set<MachineRecord>>();
  private rev = 0;

  /**
   * Grows with every committed change (and every `Emulator.updateMachine`): whatever was derived from the
   * records at an older revision (the cached response JSON) is stale.
   */
  get revision(): number {
    return this.rev;
  }

  touch(): void {
    this.rev++;
  }

  constructor(data: StateData) {
    this.catalog = data.catalog;
    for (const m of data.machines) this.addMachine(m);
    for (const n of data.networks) this.networks.set(n.id, n);
    for (const ip of data.ips) this.ips.set(ip.ipaddress, ip);
    for (const a of data.asns) this.asns.add(a);
  }

  snapshot(): StateData {
    return {
      version: 1,
      catalog: this.catalog,
      machines: [...this.machines.values()],
      networks: [...this.networks.values()],
      ips: [...this.ips.values()],
      asns: [...this.asns],
    };
  }

  addMachine(m: MachineRecord): void {
    this.machines.set(m.id, m);
    for (const t of m.tags) this.index(t, m);
  }

  /** Replaces a machine's tags, keeping the tag index in step. */
  setMachineTags(m: MachineRecord, tags: string[]): void {
    for (const t of m.tags) this.byTag.get(t)?.delete(m);
    m.tags = [...new Set(tags)];
    for (const t of m.tags) this.index(t, m);
  }

  /** Machines carrying every tag; the smallest index set is scanned. */
  machinesWithTags(tags: string[]): MachineRecord[] {
    let smallest: Set<MachineRecord> | undefined;
    for (const t of tags) {
      const s = this.byTag.get(t);
      if (!s || s.size === 0) return [];
      if (!smallest || s.size < smallest.size) smallest = s;
    }
    if (!smallest) return [...this.machines.values()];
    return [...smallest].filter((m) => tags.every((t) => m.tags.includes(t)));
  }

  private index(tag: string, m: MachineRecord): void {
    let s = this.byTag.get(tag);
    if (!s) {
      s = new Set();
      this.byTag.set(tag, s);
    }
    s.add(m);
  }

  ipsOfNetwork(networkId: string): IpRecord[] {
    return [...this.ips.values()].filter((ip) => ip.networkid === networkId);
  }
}

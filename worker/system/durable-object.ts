/**
 * The base of every Tern Durable Object: answers the health probe. Durable Objects stay thin: state in
 * their SQLite storage, logic in pure lib/ modules, RPC methods plus alarm().
 */
import { DurableObject } from "cloudflare:workers";
import type { Pingable } from "./service";

export abstract class TernDurableObject extends DurableObject<Bindings> implements Pingable {
  async ping(): Promise<{ ok: true; class: string }> {
    return { ok: true, class: this.constructor.name };
  }
}

/**
 * Where the store keeps files besides its database (export job output).
 * In-memory stores get a fresh temporary folder.
 *
 * A module of its own so that features (export jobs) and the layer that
 * assembles them (`ProfileStore`) can both import it without a cycle.
 *
 * @since 0.1.0
 */
import { Context } from "effect"

export class DataDirectory extends Context.Tag("@rtcp/profile-store/DataDirectory")<DataDirectory, string>() {}

/**
 * How networks and nodes may be called (the API's `ResourceName`): a letter or digit, then up
 * to 62 letters, digits, `_`, `.` or `-`. The schema says so at the API; commands check again,
 * because they are also called with names the API did not see (a machine's LAN, a lab's
 * networks and nodes) and a name reaches DNS answers, hosts files and kernel views.
 */
import { invalidField } from "./errors";

/** The pattern of `openapi/components/schemas/ResourceName.yaml`. */
export const RESOURCE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/**
 * Throws INVALID_FIELD at `location` unless `name` is a resource name.
 *
 * @example assertResourceName("my-net", "body.name", "network") // passes
 */
export function assertResourceName(name: string, location: string, what: string): void {
  if (!RESOURCE_NAME.test(name)) {
    throw invalidField(
      location,
      `${JSON.stringify(name.slice(0, 80))} is not a ${what} name: a letter or digit, then up to 62 letters, digits, _ . or -`,
    );
  }
}

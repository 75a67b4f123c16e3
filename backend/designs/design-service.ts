/**
 * What the API answers about design proofs, from the mirror: the registrations of a root, whether a proof of
 * files verifies against a registration (and since when), and the designs a GTIN references. A proof carries only
 * file hashes: the files never reach the server.
 *
 * Ownership: a registration proves that every leaf of its root existed at the registration time. A leaf proves
 * ownership only when its `owner` is the registrant (`ownedByRegistrant`); a registration of someone else's root
 * (a copier's front-run, a witness) shows the leaves with the owners they name, which the copier cannot change.
 */
import { notFound } from "../domain/errors.ts";
import type { DesignRegistration, Hex } from "../domain/model.ts";
import type { DesignProofRecords, ProjectionReads } from "../store/port.ts";
import { currentDesignLinks } from "./design-records.ts";
import { verifyDesignMultiProof, type DesignMultiProof } from "./design-tree.ts";

export interface DesignServiceDependencies {
  store: DesignProofRecords & Pick<ProjectionReads, "getParticipants">;
}

/** A registration as the API shows it: times as ISO 8601, and the registrant's participant name. */
export interface DesignRegistrationView {
  registrant: Hex;
  registrantName: string | null;
  root: Hex;
  registeredAt: string;
  title: string;
  licence: string;
  licenceHash: Hex;
  transactionHash: Hex;
  blockNumber: number;
}

export interface DesignVerification {
  verified: boolean;
  /** Why it did not verify (null when it did). */
  reason: string | null;
  root: Hex;
  registrant: Hex;
  /** The registrant's registration of the root (null when there is none). */
  registration: DesignRegistrationView | null;
  /** The proven files, each with whether its leaf names the registrant as owner. */
  files: { fileHash: Hex; owner: Hex; ownedByRegistrant: boolean }[];
  /** Registrations of the same root by other accounts before this one: witnesses, never owners of these leaves. */
  earlierRegistrationsByOthers: DesignRegistrationView[];
}

export interface DesignLinkView {
  gtin: string;
  registrant: Hex;
  root: Hex;
  linkedBy: Hex;
  linkedAt: string;
  transactionHash: Hex;
  registration: DesignRegistrationView | null;
}

export interface DesignService {
  registrationsOf(root: Hex): Promise<{ root: Hex; registrations: DesignRegistrationView[] }>;
  verify(request: { root: Hex; registrant: Hex } & DesignMultiProof): Promise<DesignVerification>;
  linksOf(gtin: string): Promise<{ gtin: string; designs: DesignLinkView[] }>;
}

const isoOf = (seconds: number) => new Date(seconds * 1000).toISOString();

export function createDesignService({ store }: DesignServiceDependencies): DesignService {
  async function views(registrations: DesignRegistration[]): Promise<DesignRegistrationView[]> {
    const registrants = [...new Set(registrations.map((registration) => registration.registrant))];
    const participants = registrants.length > 0 ? await store.getParticipants(registrants) : [];
    const names = new Map(participants.map((participant) => [participant.address, participant.name]));
    return registrations.map((registration) => ({
      registrant: registration.registrant,
      registrantName: names.get(registration.registrant) ?? null,
      root: registration.root,
      registeredAt: isoOf(registration.registeredAt),
      title: registration.title,
      licence: registration.licence,
      licenceHash: registration.licenceHash,
      transactionHash: registration.transactionHash,
      blockNumber: registration.blockNumber,
    }));
  }

  return {
    async registrationsOf(root) {
      const registrations = await store.listDesignRegistrations(root);
      if (registrations.length === 0) throw notFound(`no registration of design root ${root} is mirrored`);
      return { root, registrations: await views(registrations) };
    },

    async verify({ root, registrant, leaves, proof, proofFlags }) {
      const files = leaves.map((leaf) => ({ fileHash: leaf.fileHash, owner: leaf.owner, ownedByRegistrant: leaf.owner === registrant }));
      const answer = { root, registrant, files, registration: null, earlierRegistrationsByOthers: [] };
      if (!verifyDesignMultiProof(root, { leaves, proof, proofFlags })) {
        return { ...answer, verified: false, reason: "the proof does not lead from these files to the root" };
      }
      const registrations = await store.listDesignRegistrations(root);
      const index = registrations.findIndex((registration) => registration.registrant === registrant);
      if (index === -1) {
        return { ...answer, verified: false, reason: `${registrant} has not registered root ${root} (or the mirror has not seen it yet)` };
      }
      const [registration, ...earlier] = await views([registrations[index]!, ...registrations.slice(0, index)]);
      return { ...answer, verified: true, reason: null, registration: registration!, earlierRegistrationsByOthers: earlier };
    },

    async linksOf(gtin) {
      const links = currentDesignLinks(await store.listDesignLinkChanges(gtin));
      const registrationsByRoot = new Map<Hex, DesignRegistration[]>();
      for (const link of links) {
        if (!registrationsByRoot.has(link.root)) registrationsByRoot.set(link.root, await store.listDesignRegistrations(link.root));
      }
      const registrations = links.map(
        (link) => registrationsByRoot.get(link.root)!.find((registration) => registration.registrant === link.registrant) ?? null,
      );
      const registrationViews = await views(registrations.filter((registration) => registration !== null));
      const viewOf = new Map(registrationViews.map((view) => [`${view.registrant}|${view.root}`, view]));
      return {
        gtin,
        designs: links.map((link) => ({
          gtin: link.gtin,
          registrant: link.registrant,
          root: link.root,
          linkedBy: link.by,
          linkedAt: isoOf(link.at),
          transactionHash: link.transactionHash,
          registration: viewOf.get(`${link.registrant}|${link.root}`) ?? null,
        })),
      };
    },
  };
}

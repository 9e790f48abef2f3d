export interface DatasetSpec {
  key: "crm" | "loyalty" | "app" | "web" | "purchases";
  name: string;
  description: string;
  schemaClass: "https://ns.adobe.com/xdm/context/profile" | "https://ns.adobe.com/xdm/context/experienceevent";
  upsert: boolean;
  file: string;
}

const PROFILE = "https://ns.adobe.com/xdm/context/profile";
const EVENT = "https://ns.adobe.com/xdm/context/experienceevent";

export const datasets: ReadonlyArray<DatasetSpec> = [
  {
    key: "crm",
    name: "Luma CRM Profiles",
    description: "Customer master data from the CRM: name, birth date, contact details and home address, keyed by CRM id.",
    schemaClass: PROFILE,
    upsert: false,
    file: "crm.ndjson",
  },
  {
    key: "loyalty",
    name: "Luma Loyalty Members",
    description: "Loyalty programme members with tier and points; some carry a nickname and city that differ from CRM.",
    schemaClass: PROFILE,
    upsert: true,
    file: "loyalty.ndjson",
  },
  {
    key: "app",
    name: "Luma Mobile App Profiles",
    description: "Profiles the Luma app keeps per device (ECID): the signed-in email, app preferences, marketing consent and the phone number typed in the app.",
    schemaClass: PROFILE,
    upsert: false,
    file: "app.ndjson",
  },
  {
    key: "web",
    name: "Luma Web Page Views",
    description: "Page views on luma.example.com by device (ECID); authenticated sessions also carry the email.",
    schemaClass: EVENT,
    upsert: false,
    file: "web.ndjson",
  },
  {
    key: "purchases",
    name: "Luma Online Purchases",
    description: "Orders with line items, keyed by device (ECID) and CRM id.",
    schemaClass: EVENT,
    upsert: false,
    file: "purchases.ndjson",
  },
];

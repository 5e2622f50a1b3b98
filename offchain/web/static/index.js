// The console's home: static links, translated.
import { applyI18n } from "./i18n.js";

applyI18n();

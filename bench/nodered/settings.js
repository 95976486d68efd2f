// Headless Node-RED for bench/ingest_mqtt.py: no editor, no admin API, no HTTP server at all, no credential
// secret prompt. The flow file is flow.json beside this file; the user directory is a throwaway folder given by
// the bench (NODE_RED_USER_DIR), so nothing is written into the repository.
const path = require("path");

module.exports = {
    flowFile: path.join(__dirname, "flow.json"),
    userDir: process.env.NODE_RED_USER_DIR || require("os").tmpdir(),
    httpAdminRoot: false,          // no editor, no admin API
    httpNodeRoot: false,           // no HTTP-in endpoints: with both off Node-RED opens no port
    credentialSecret: false,       // the flow has no credentials; never ask for or generate a key
    flowFilePretty: true,
    readOnly: true,                // never write the flow (or a backup of it) back
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    functionExternalModules: false,
    diagnostics: { enabled: false },
    runtimeState: { enabled: false },
    telemetry: { enabled: false },
    logging: { console: { level: "info", metrics: false, audit: false } },
    editorTheme: { tours: false },
};

/**
 * Ignition can enable a unit but not start one. A unit the OSC wants started without being
 * enabled (command start/restart, enable false) is started once by this helper on first boot.
 */
export const START_HELPER_UNIT = "metal-kube-start-units.service";
export const START_HELPER_STAMP = "/var/lib/metal-kube/start-units.done";

/** The helper's unit file for the given (valid, sorted) unit names. */
export function startHelperContents(units: readonly string[]): string {
  // systemd unescapes C-style sequences in ExecStart, so the `\` of escaped unit names doubles.
  const names = units.map((u) => u.replaceAll("\\", "\\\\")).join(" ");
  return (
    "[Unit]\n" +
    "Description=Start units the OperatingSystemConfig starts without enabling them (once)\n" +
    `ConditionPathExists=!${START_HELPER_STAMP}\n\n` +
    "[Service]\n" +
    "Type=oneshot\n" +
    `ExecStart=/bin/systemctl --no-block start ${names}\n` +
    `ExecStartPost=/bin/mkdir -p ${START_HELPER_STAMP.slice(0, START_HELPER_STAMP.lastIndexOf("/"))}\n` +
    `ExecStartPost=/bin/touch ${START_HELPER_STAMP}\n\n` +
    "[Install]\n" +
    "WantedBy=multi-user.target\n"
  );
}

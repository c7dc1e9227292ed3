package io.kelpie.cli;

import picocli.CommandLine.Command;

@Command(name = "vdi", mixinStandardHelpOptions = true,
        description = "Create, list, resize, delete, read, write, import and export virtual disk images (VDIs); snapshot, clone, roll back, back up, restore.",
        subcommands = {VdiCreateCommand.class, VdiListCommand.class, VdiDeleteCommand.class, VdiResizeCommand.class,
                VdiObjectCommand.class, VdiReadCommand.class, VdiWriteCommand.class, VdiCheckCommand.class,
                VdiSnapshotCommand.class, VdiCloneCommand.class, VdiRollbackCommand.class, VdiTreeCommand.class,
                VdiSetattrCommand.class, VdiGetattrCommand.class, VdiAclCommand.class, VdiBackupCommand.class, VdiRestoreCommand.class,
                VdiImportCommand.class, VdiExportCommand.class})
final class VdiCommand extends GroupCommand {
}

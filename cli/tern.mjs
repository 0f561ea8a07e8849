#!/usr/bin/env node
// The `tern` command. This file only registers subcommands; each one lives in its own module in cli/.
import { Command } from "commander";
import { registerAgent } from "./agent.mjs";
import { registerBackup } from "./backup.mjs";
import { registerData } from "./data.mjs";
import { registerDrift } from "./drift.mjs";
import { registerLogin } from "./login.mjs";
import { registerRun } from "./run.mjs";

const program = new Command();
program.name("tern").description("Tern from the command line").version("0.1.0");
registerLogin(program);
registerData(program);
registerAgent(program);
registerDrift(program);
registerRun(program);
registerBackup(program);

await program.parseAsync(process.argv);

import { describe, expect, it } from "vitest";
import {
  emptyProject,
  entryPointOf,
  fillEntryPoint,
  findMLprojectFile,
  formatCommand,
  isPythonFloat,
  parseMLproject,
  parseParameterArgs,
  ProjectError,
  pythonFloatRepr,
  shellQuote,
  uriScheme,
  type Project,
} from "../../worker/lib/projects/mlproject";

// The MLproject of MLflow's documentation ("Specifying Projects"), with its python_env file present.
const DOCS_PROJECT = `
name: My Project

python_env: python_env.yaml
# or
# conda_env: my_env.yaml
# or
# docker_env:
#    image:  mlflow-docker-example

entry_points:
  main:
    parameters:
      data_file: path
      regularization: {type: float, default: 0.1}
    command: "python train.py -r {regularization} {data_file}"
  validate:
    parameters:
      data_file: path
    command: "python validate.py {data_file}"
`;

// MLflow's docker example project.
const DOCKER_PROJECT = `
name: docker-example

docker_env:
  image:  mlflow-docker-example
  volumes: ["/local/path:/container/mount/path"]
  environment: [["NEW_ENV_VAR", "new_var_value"], "VAR_TO_COPY_FROM_HOST_ENVIRONMENT"]

entry_points:
  main:
    parameters:
      alpha: float
      l1_ratio: {type: float, default: 0.1}
    command: "python train.py --alpha {alpha} --l1-ratio {l1_ratio}"
`;

// MLflow's multistep workflow example: int-typed parameters (MLflow treats them as strings) and a
// command folded over two lines.
const MULTISTEP_PROJECT = `
name: multistep_example

conda_env: conda.yaml

entry_points:
  load_raw_data:
    command: "python load_raw_data.py"

  etl_data:
    parameters:
      ratings_csv: path
      max_row_limit: {type: int, default: 100000}
    command: "python etl_data.py --ratings-csv {ratings_csv} --max-row-limit {max_row_limit}"

  main:
    parameters:
      als_max_iter: {type: int, default: 10}
      keras_hidden_units: {type: int, default: 20}
      max_row_limit: {type: int, default: 100000}
    command: "python main.py --als-max-iter {als_max_iter} --keras-hidden-units {keras_hidden_units}
                             --max-row-limit {max_row_limit}"
`;

// MLflow's hyperparameter example: string parameters with defaults.
const HYPERPARAM_PROJECT = `
name: HyperparameterSearch
python_env: python_env.yaml
entry_points:
  train:
    parameters:
      training_data: {type: string, default: "https://raw.githubusercontent.com/mlflow/mlflow/master/tests/datasets/winequality-white.csv"}
      epochs: {type: int, default: 32}
      batch_size: {type: int, default: 16}
      learning_rate: {type: float, default: 1e-1}
      momentum: {type: float, default: .0}
      seed: {type: int, default: 97531}
    command: "python train.py {training_data}
                                    --batch-size {batch_size}
                                    --epochs {epochs}
                                    --learning-rate {learning_rate}
                                    --momentum {momentum}"
  random:
    parameters:
      max_runs: {type: int, default: 8}
      metric: {type: string, default: "rmse"}
      algo: {type: string, default: "tpe.suggest"}
    command: "python search_random.py --max-runs {max_runs} --metric {metric} --algo {algo}"
`;

const files = (...names: string[]) => (p: string) => names.includes(p);

function error(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProjectError) return err.message;
    throw err;
  }
  throw new Error("expected a ProjectError");
}

describe("parseMLproject on MLflow's documented projects", () => {
  it("reads the documentation's project: entry points, typed parameters, defaults printed as Python prints them", () => {
    const p = parseMLproject(DOCS_PROJECT, { fileExists: files("python_env.yaml") });
    expect(p.name).toBe("My Project");
    expect(p.environment).toEqual({ type: "python_env", file: "python_env.yaml" });
    expect(Object.keys(p.entryPoints)).toEqual(["main", "validate"]);
    expect(p.entryPoints.main.parameters).toEqual([
      { name: "data_file", type: "path", default: null },
      { name: "regularization", type: "float", default: "0.1" },
    ]);
    expect(p.entryPoints.main.command).toBe("python train.py -r {regularization} {data_file}");
    expect(p.warnings).toEqual([]);
  });

  it("refuses a named environment file that is missing, as MLflow does", () => {
    expect(error(() => parseMLproject(DOCS_PROJECT, { fileExists: files() }))).toContain("python_env file python_env.yaml, but no such file was found");
  });

  it("reads docker_env with volumes and environment pairs", () => {
    const p = parseMLproject(DOCKER_PROJECT);
    expect(p.environment).toEqual({
      type: "docker_env",
      image: "mlflow-docker-example",
      volumes: ["/local/path:/container/mount/path"],
      environment: [["NEW_ENV_VAR", "new_var_value"], "VAR_TO_COPY_FROM_HOST_ENVIRONMENT"],
    });
    expect(p.entryPoints.main.parameters[0]).toEqual({ name: "alpha", type: "float", default: null });
  });

  it("reads the multistep example: int parameters act as strings (with a warning), folded commands join with spaces", () => {
    const p = parseMLproject(MULTISTEP_PROJECT, { fileExists: files("conda.yaml") });
    expect(p.environment).toEqual({ type: "conda_env", file: "conda.yaml" });
    expect(p.entryPoints.load_raw_data.parameters).toEqual([]);
    expect(p.entryPoints.main.command).toBe("python main.py --als-max-iter {als_max_iter} --keras-hidden-units {keras_hidden_units} --max-row-limit {max_row_limit}");
    expect(p.warnings.some((w) => w.includes("'max_row_limit' has type 'int'"))).toBe(true);
    const filled = fillEntryPoint(p.entryPoints.main, { als_max_iter: "5" });
    expect(filled.command).toBe("python main.py --als-max-iter 5 --keras-hidden-units 20 --max-row-limit 100000");
    expect(filled.params).toEqual({ als_max_iter: "5", keras_hidden_units: "20", max_row_limit: "100000" });
  });

  it("reads the hyperparameter example: YAML 1.1 numbers as PyYAML reads them (1e-1 stays text, .0 is a float)", () => {
    const p = parseMLproject(HYPERPARAM_PROJECT, { fileExists: files("python_env.yaml") });
    const defaults = Object.fromEntries(p.entryPoints.train.parameters.map((x) => [x.name, x.default]));
    expect(defaults).toEqual({
      training_data: "https://raw.githubusercontent.com/mlflow/mlflow/master/tests/datasets/winequality-white.csv",
      epochs: "32",
      batch_size: "16",
      learning_rate: "1e-1",
      momentum: "0.0",
      seed: "97531",
    });
    expect(fillEntryPoint(p.entryPoints.random, {}).command).toBe("python search_random.py --max-runs 8 --metric rmse --algo tpe.suggest");
  });

  it("finds the environment by MLflow's default file names when none is named", () => {
    const text = "entry_points:\n  main:\n    command: python train.py\n";
    expect(parseMLproject(text, { fileExists: files("python_env.yaml", "conda.yaml") }).environment).toEqual({ type: "python_env", file: "python_env.yaml" });
    expect(parseMLproject(text, { fileExists: files("conda.yaml") }).environment).toEqual({ type: "conda_env", file: "conda.yaml" });
    expect(parseMLproject(text, { fileExists: files() }).environment).toEqual({ type: "none" });
    expect(emptyProject(files("conda.yaml")).environment).toEqual({ type: "conda_env", file: "conda.yaml" });
  });
});

describe("parseMLproject refusals", () => {
  it("names each problem", () => {
    expect(error(() => parseMLproject("python_env: a.yaml\nconda_env: b.yaml\n"))).toContain("multiple environment fields: conda_env, python_env");
    expect(error(() => parseMLproject("docker_env:\n  volumes: []\n"))).toContain("Docker environment specified but no image attribute found");
    expect(error(() => parseMLproject("docker_env:\n  image: x\n  volumes: /a:/b\n"))).toContain("Docker volumes must be a list of strings");
    expect(error(() => parseMLproject("docker_env:\n  image: x\n  environment: [[a, b, c]]\n"))).toContain("environment must be a list");
    expect(error(() => parseMLproject("entry_points:\n  main:\n    parameters: {}\n"))).toContain("entry point 'main' has no command");
    expect(error(() => parseMLproject("entry_points:\n  main: {command: x, parameters: {a: {type: float, default: abc}}}\n"))).toContain("the default 'abc' is not a number");
    expect(error(() => parseMLproject("entry_points: [main]\n"))).toContain("entry_points must be a mapping");
    expect(error(() => parseMLproject("name: a\nname: b\n"))).toContain("not valid YAML");
    expect(error(() => parseMLproject("entry_points:\n  main: {command: [a, b]}\n"))).toContain("must be a single value");
  });
});

describe("YAML 1.1 defaults printed like Python's str()", () => {
  const defaultOf = (yamlValue: string) => parseMLproject(`entry_points:\n  main:\n    command: x\n    parameters:\n      p: {default: ${yamlValue}}\n`).entryPoints.main.parameters[0].default;
  it.each([
    ["1.0", "1.0"],
    ["1.50", "1.5"],
    ["0.1", "0.1"],
    ["1.0e-5", "1e-05"],
    ["1e-5", "1e-5"],
    ["1.5e+20", "1.5e+20"],
    ["12345678901234567.0", "1.2345678901234568e+16"],
    ["0.0001", "0.0001"],
    ["0.00001", "1e-05"],
    ["-.inf", "-inf"],
    [".nan", "nan"],
    ["10", "10"],
    ["1_000", "1000"],
    ["0x1F", "31"],
    ["010", "8"],
    ["0b101", "5"],
    ["1:30", "90"],
    ["12345678901234567890", "12345678901234567890"],
    ["yes", "True"],
    ["Off", "False"],
    ["true", "True"],
    ['"yes"', "yes"],
    ["'0.10'", "0.10"],
    ["!!float 3", "3.0"],
    ["!!str 3.0", "3.0"],
    ["hello world", "hello world"],
    ["~", null],
    ["null", null],
    ["", null],
  ])("default %s -> %s", (yamlValue, want) => {
    expect(defaultOf(yamlValue)).toBe(want);
  });

  it("pythonFloatRepr matches repr() at the format switches", () => {
    expect(pythonFloatRepr(1e16)).toBe("1e+16");
    expect(pythonFloatRepr(9999999999999998)).toBe("9999999999999998.0");
    expect(pythonFloatRepr(123.456)).toBe("123.456");
    expect(pythonFloatRepr(-0.5)).toBe("-0.5");
    expect(pythonFloatRepr(-0)).toBe("-0.0");
    expect(pythonFloatRepr(5e-324)).toBe("5e-324");
  });
});

describe("entry points", () => {
  const project: Project = parseMLproject(DOCKER_PROJECT);
  it("runs .py and .sh files as MLflow does, with every parameter appended", () => {
    const py = entryPointOf(project, "train.py");
    expect(py).toMatchObject({ command: "python train.py", script: true, parameters: [] });
    expect(fillEntryPoint(py, { alpha: "0.5", "data-dir": "my data" }).command).toBe("python train.py --alpha 0.5 --data-dir 'my data'");
    expect(entryPointOf(project, "scripts/run it.sh", "/bin/zsh").command).toBe("/bin/zsh 'scripts/run it.sh'");
  });
  it("refuses anything else with the entry points it knows", () => {
    expect(error(() => entryPointOf(project, "train"))).toBe("Could not find 'train' among entry points ['main'] or interpret it as a runnable script (supported script file extensions: .py, .sh)");
  });
  it("finds the MLproject file case-insensitively", () => {
    expect(findMLprojectFile(["README.md", "MLProject", "train.py"])).toBe("MLProject");
    expect(findMLprojectFile(["mlproject.yaml"])).toBeNull();
  });
});

describe("fillEntryPoint", () => {
  const docs = parseMLproject(DOCS_PROJECT, { fileExists: files("python_env.yaml") });
  const docker = parseMLproject(DOCKER_PROJECT);

  it("fills defaults, quotes values and resolves paths only in the command", () => {
    const filled = fillEntryPoint(docs.entryPoints.main, { data_file: "data/my file.csv" }, { resolvePath: (v) => `/srv/spy-model/${v}` });
    expect(filled.params).toEqual({ data_file: "data/my file.csv", regularization: "0.1" });
    expect(filled.command).toBe("python train.py -r 0.1 '/srv/spy-model/data/my file.csv'");
  });

  it("appends undeclared parameters as --name value in the order given (MLflow), or refuses them when strict", () => {
    const filled = fillEntryPoint(docker.entryPoints.main, { alpha: "0.4", seed: "7", note: "it's" });
    expect(filled.extraParams).toEqual({ seed: "7", note: "it's" });
    expect(filled.command).toBe(`python train.py --alpha 0.4 --l1-ratio 0.1 --seed 7 --note 'it'"'"'s'`);
    expect(error(() => fillEntryPoint(docker.entryPoints.main, { alpha: "0.4", seed: "7" }, { strict: true }))).toBe("Unknown parameter for entry point 'main': 'seed' (declared: alpha, l1_ratio)");
    expect(error(() => fillEntryPoint(docker.entryPoints.main, { alpha: "1", "a b": "1" }))).toContain("cannot be passed as a --a b option");
  });

  it("names missing required parameters together", () => {
    expect(error(() => fillEntryPoint(docs.entryPoints.validate, {}))).toBe("No value given for missing parameters: 'data_file' (entry point 'validate'; pass -P name=value)");
    const two = parseMLproject("entry_points:\n  main: {command: 'x {a} {b}', parameters: {a: string, b: float, c: {default: 1}}}\n");
    expect(error(() => fillEntryPoint(two.entryPoints.main, {}))).toContain("'a', 'b'");
  });

  it("refuses a float that is not a number and a uri without a scheme", () => {
    expect(error(() => fillEntryPoint(docker.entryPoints.main, { alpha: "high" }))).toBe("Parameter 'alpha' of entry point 'main' is a float, but got 'high'");
    const uri = parseMLproject("entry_points:\n  main: {command: 'x {src}', parameters: {src: uri}}\n");
    expect(error(() => fillEntryPoint(uri.entryPoints.main, { src: "data/train.csv" }))).toContain("Expected URI for parameter 'src' but got 'data/train.csv'");
    expect(fillEntryPoint(uri.entryPoints.main, { src: "s3://bucket/train.csv" }).command).toBe("x s3://bucket/train.csv");
  });

  it("lets the path resolver refuse", () => {
    const refuse = () => {
      throw new ProjectError("no such file");
    };
    expect(error(() => fillEntryPoint(docs.entryPoints.validate, { data_file: "nope.csv" }, { resolvePath: refuse }))).toBe("no such file");
  });
});

describe("the pieces", () => {
  it("parseParameterArgs splits at the first '=' and refuses repeats and bare names", () => {
    expect(parseParameterArgs(["alpha=0.5", "expr=a=b", "empty="])).toEqual({ alpha: "0.5", expr: "a=b", empty: "" });
    expect(error(() => parseParameterArgs(["alpha"]))).toBe("Invalid format for -P parameter: 'alpha'. Use -P name=value.");
    expect(error(() => parseParameterArgs(["a=1", "a=2"]))).toBe("Repeated parameter: 'a'");
    expect(error(() => parseParameterArgs(["=1"]))).toContain("the name is empty");
  });

  it("shellQuote is shlex.quote", () => {
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("abc-1.5/x@y%z+=:,")).toBe("abc-1.5/x@y%z+=:,");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("$(rm -rf /)")).toBe("'$(rm -rf /)'");
    expect(shellQuote("it's")).toBe(`'it'"'"'s'`);
  });

  it("formatCommand is str.format over keyword fields", () => {
    expect(formatCommand("echo {{literal}} {a}}}", { a: "1" })).toBe("echo {literal} 1}");
    expect(error(() => formatCommand("echo {b}", { a: "1" }))).toBe("The command of entry point 'main' uses {b}, which is not one of its parameters");
    expect(error(() => formatCommand("echo {0}", {}))).toContain("only {parameter_name} fields");
    expect(error(() => formatCommand("echo {a:.2f}", { a: "1" }))).toContain("only {parameter_name} fields");
    expect(error(() => formatCommand("echo }", {}))).toContain("single '}'");
    expect(error(() => formatCommand("echo {a", {}))).toContain("without a closing");
  });

  it("isPythonFloat accepts what float() accepts", () => {
    for (const ok of ["1", "-1.5", ".5", "5.", "1e-3", "1E+3", " 2 ", "1_000.5", "inf", "-Infinity", "nan"]) expect(isPythonFloat(ok), ok).toBe(true);
    for (const bad of ["", "abc", "1..2", "1_", "_1", "0x10", "1e", "--1"]) expect(isPythonFloat(bad), bad).toBe(false);
  });

  it("uriScheme follows urllib.parse", () => {
    expect(uriScheme("s3://b/k")).toBe("s3");
    expect(uriScheme("File:///x")).toBe("file");
    expect(uriScheme("runs:/abc/model")).toBe("runs");
    expect(uriScheme("data/x.csv")).toBeNull();
    expect(uriScheme(":x")).toBeNull();
    expect(uriScheme("1abc:x")).toBeNull();
  });
});

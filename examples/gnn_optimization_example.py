"""The seed's complete workflow, for real: synthetic data -> Optuna tuning -> training -> comparison -> deploy.

Runs on the CPU in a few minutes with the defaults (small graphs, few trials, capped epochs); raise --trials,
--size and --max-epochs for a serious search. Optuna and MLflow storage go under the data dir (settings).

    python examples/gnn_optimization_example.py [--verbose] [--trials 4] [--size small] [--max-epochs 20]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import warnings

from gnn_neo4j.service import OptimizedGNNService
from gnn_neo4j.settings import load_settings
from gnn_neo4j.synthetic import generate_splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="log every stage")
    parser.add_argument("--trials", type=int, default=4, help="Optuna trials per model type")
    parser.add_argument("--size", default="small", choices=["small", "medium"])
    parser.add_argument("--max-epochs", type=int, default=20, help="epoch cap per tuning trial")
    parser.add_argument("--track", action="store_true", help="log the studies to MLflow")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    # 1. data: three different synthetic environments (train / validation / test)
    service = OptimizedGNNService(load_settings(), track=args.track)
    train, val, test = service.prepare_training_data(generate_splits((1, 2, 3), size=args.size))
    print(f"train {train.summary()}\nval   {val.summary()}\ntest  {test.summary()}")

    # 2. hyperparameter optimisation (pruned, resumable: rerunning continues the same studies)
    results = service.optimize_hyperparameters(train, val, model_types=["graphsage", "gat"], n_trials=args.trials,
                                               max_epochs=args.max_epochs, study_prefix=f"example-{args.size}")
    for model_type, summary in results.items():
        print(f"{model_type}: best validation AUC-PR {summary['best_score']} with {summary['best_params']}")

    # 3. train the optimised models and 4. compare them with the baselines on the held-out test graph
    for model_type in ("graphsage", "gat"):
        service.train_optimized_model(train, val, test, model_type=model_type, use_optimized_params=True)
    comparison = service.compare_models()
    for name, metrics in comparison["results"].items():
        print(f"{name:>20}: NDCG@10 {metrics.get('ndcg_at_k', float('nan')):.3f}  "
              f"risk corr {metrics.get('risk_score_correlation', float('nan')):.3f}  "
              f"AUC-PR {metrics.get('auc_pr', float('nan')):.3f}")
    recommendation = service.get_model_recommendations()
    print(f"recommended: {recommendation['recommended_model']} ({'; '.join(recommendation['reasons'])})")

    # 5. deploy: save, load, query attack paths
    with tempfile.TemporaryDirectory() as directory:
        service.save_models(directory)
        service.load_models(directory)
    entry = str(test.node_ids[test.entry_points[0]])
    jewel = str(test.node_ids[test.crown_jewels[0]])
    for path in service.get_attack_paths(entry, jewel, model_type=recommendation["recommended_model"], k=3):
        print(f"  #{path['rank']} p={path['probability']:.3f} {' -> '.join(path['node_ids'])}")


if __name__ == "__main__":
    main()
